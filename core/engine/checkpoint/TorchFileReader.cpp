#include "TorchFileReader.h"

#include "base/Error.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <caffe2/serialize/inline_container.h>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

namespace diffseg::core::engine {

namespace {

using Kind = PickleValue::Kind;

PickleRef make(Kind kind)
{
    return std::make_shared<PickleValue>(kind);
}

PickleRef makeInt(std::int64_t v)
{
    auto p = make(Kind::Int);
    p->integer = v;
    return p;
}

PickleRef makeText(Kind kind, std::string text)
{
    auto p = make(kind);
    p->text = std::move(text);
    return p;
}

std::string firstLine(const std::string& text)
{
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

at::ScalarType storageDtype(const std::string& name, bool& known)
{
    static const std::map<std::string, at::ScalarType> types{
        {"torch.FloatStorage", at::kFloat},
        {"torch.DoubleStorage", at::kDouble},
        {"torch.HalfStorage", at::kHalf},
        {"torch.BFloat16Storage", at::kBFloat16},
        {"torch.LongStorage", at::kLong},
        {"torch.IntStorage", at::kInt},
        {"torch.ShortStorage", at::kShort},
        {"torch.CharStorage", at::kChar},
        {"torch.ByteStorage", at::kByte},
        {"torch.BoolStorage", at::kBool},
        {"torch.ComplexFloatStorage", at::kComplexFloat},
        {"torch.ComplexDoubleStorage", at::kComplexDouble},
        {"torch.UntypedStorage", at::kByte},
        {"torch.storage.UntypedStorage", at::kByte}};
    const auto it = types.find(name);
    known = it != types.end();
    return known ? it->second : at::kByte;
}

/// The restricted pickle machine. Only builds data; see TorchFileReader.
class Unpickler
{
public:
    Unpickler(std::string path, const std::uint8_t* data, std::size_t size,
              caffe2::serialize::PyTorchStreamReader& records)
        : m_path(std::move(path))
        , m_data(data)
        , m_size(size)
        , m_records(records)
    {}

    PickleRef run();

private:
    [[noreturn]] void fail(const std::string& problem) const
    {
        throw Error(ErrorKind::Format, m_path,
                    "corrupt or unsupported pickle data (" + problem + " at byte " +
                        std::to_string(m_pos) + ")");
    }
    const std::uint8_t* take(std::size_t n)
    {
        if (n > m_size - m_pos) {
            fail("truncated");
        }
        const std::uint8_t* p = m_data + m_pos;
        m_pos += n;
        return p;
    }
    std::uint64_t readLe(std::size_t n)
    {
        const std::uint8_t* p = take(n);
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
        }
        return v;
    }
    std::string readString(std::size_t n)
    {
        const std::uint8_t* p = take(n);
        return std::string(reinterpret_cast<const char*>(p), n);
    }
    std::string readLine()
    {
        std::string line;
        while (true) {
            const char c = static_cast<char>(*take(1));
            if (c == '\n') {
                return line;
            }
            line.push_back(c);
            if (line.size() > 4096) {
                fail("overlong text line");
            }
        }
    }
    PickleRef pop()
    {
        if (m_stack.size() <= (m_marks.empty() ? 0 : m_marks.back())) {
            fail("stack underflow");
        }
        PickleRef v = std::move(m_stack.back());
        m_stack.pop_back();
        return v;
    }
    PickleRef& top()
    {
        if (m_stack.empty()) {
            fail("empty stack");
        }
        return m_stack.back();
    }
    std::vector<PickleRef> popToMark()
    {
        if (m_marks.empty()) {
            fail("missing MARK");
        }
        const std::size_t mark = m_marks.back();
        m_marks.pop_back();
        std::vector<PickleRef> items(
            std::make_move_iterator(m_stack.begin() + static_cast<std::ptrdiff_t>(mark)),
            std::make_move_iterator(m_stack.end()));
        m_stack.resize(mark);
        return items;
    }
    void memoPut(std::uint64_t index) { m_memo[index] = top(); }
    void memoGet(std::uint64_t index)
    {
        const auto it = m_memo.find(index);
        if (it == m_memo.end()) {
            fail("unknown memo entry " + std::to_string(index));
        }
        m_stack.push_back(it->second);
    }
    void setItems(std::vector<PickleRef> kv)
    {
        PickleRef& dict = top();
        if (dict->kind != Kind::Dict || kv.size() % 2 != 0) {
            fail("SETITEMS on " + dict->describe());
        }
        for (std::size_t i = 0; i < kv.size(); i += 2) {
            dict->entries.emplace_back(std::move(kv[i]), std::move(kv[i + 1]));
        }
    }
    void appendItems(std::vector<PickleRef> items)
    {
        PickleRef& list = top();
        if (list->kind != Kind::List && list->kind != Kind::Object) {
            fail("APPEND on " + list->describe());
        }
        for (auto& item : items) {
            list->items.push_back(std::move(item));
        }
    }
    PickleRef tuple(std::vector<PickleRef> items)
    {
        auto t = make(Kind::Tuple);
        t->items = std::move(items);
        return t;
    }
    PickleRef reduce(const PickleRef& callable, const PickleRef& args);
    PickleRef persistentLoad(const PickleRef& pid);
    PickleRef rebuildTensor(const std::vector<PickleRef>& args);

    std::string m_path;
    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    caffe2::serialize::PyTorchStreamReader& m_records;
    std::vector<PickleRef> m_stack;
    std::vector<std::size_t> m_marks;
    std::unordered_map<std::uint64_t, PickleRef> m_memo;
    std::unordered_map<std::string, PickleRef> m_storages;
};

std::string latin1FromUtf8(const std::string& utf8, bool& ok)
{
    std::string out;
    ok = true;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if ((c & 0xE0) == 0xC0 && i + 1 < utf8.size()) {
            const unsigned cp =
                ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3Fu);
            if (cp > 0xFF) {
                ok = false;
                return {};
            }
            out.push_back(static_cast<char>(cp));
            ++i;
        } else {
            ok = false;
            return {};
        }
    }
    return out;
}

/// numpy.core.multiarray.scalar(dtype, bytes): decodes the common numeric dtypes.
PickleRef numpyScalar(const std::vector<PickleRef>& args)
{
    if (args.size() != 2 || args[0]->kind != Kind::Object || args[0]->text != "numpy.dtype" ||
        args[0]->items.empty() || args[0]->items[0]->kind != Kind::String ||
        args[1]->kind != Kind::Bytes) {
        return nullptr;
    }
    const std::string code = args[0]->items[0]->text;
    const PickleValue* state = args[0]->state.get();
    bool bigEndian = false;
    if (state != nullptr && state->kind == Kind::Tuple && state->items.size() > 1 &&
        state->items[1]->kind == Kind::String) {
        bigEndian = state->items[1]->text == ">";
    }
    std::string bytes = args[1]->text;
    if (bigEndian) {
        std::reverse(bytes.begin(), bytes.end());
    }
    const auto fits = [&](std::size_t n) {
        return bytes.size() == n;
    };
    auto value = make(Kind::Float);
    if (code == "f8" && fits(8)) {
        std::memcpy(&value->real, bytes.data(), 8);
        return value;
    }
    if (code == "f4" && fits(4)) {
        float f = 0.0f;
        std::memcpy(&f, bytes.data(), 4);
        value->real = f;
        return value;
    }
    value->kind = Kind::Int;
    const bool isSigned = !code.empty() && code[0] == 'i';
    const bool isUnsigned = !code.empty() && code[0] == 'u';
    if ((isSigned || isUnsigned) && code.size() == 2 &&
        fits(static_cast<std::size_t>(code[1] - '0'))) {
        std::uint64_t raw = 0;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            raw |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
        }
        const std::size_t bits = 8 * bytes.size();
        if (isSigned && bits < 64 && (raw >> (bits - 1)) != 0) {
            raw |= ~std::uint64_t{0} << bits;
        }
        value->integer = static_cast<std::int64_t>(raw);
        return value;
    }
    if (code == "b1" && fits(1)) {
        value->kind = Kind::Bool;
        value->boolean = bytes[0] != 0;
        return value;
    }
    return nullptr;
}

PickleRef Unpickler::persistentLoad(const PickleRef& pid)
{
    const auto& it = pid->items;
    if (pid->kind != Kind::Tuple || it.size() < 5 || it[0]->kind != Kind::String ||
        it[0]->text != "storage" || it[1]->kind != Kind::Object || it[2]->kind != Kind::String ||
        it[4]->kind != Kind::Int) {
        fail("unexpected persistent id " + pid->describe());
    }
    const std::string& key = it[2]->text;
    if (const auto cached = m_storages.find(key); cached != m_storages.end()) {
        return cached->second;
    }
    bool known = false;
    const at::ScalarType dtype = storageDtype(it[1]->text, known);
    if (!known) {
        fail("unknown storage type " + it[1]->text);
    }
    const std::int64_t numel = it[4]->integer;
    const std::string record = "data/" + key;
    if (numel < 0 || !m_records.hasRecord(record)) {
        fail("missing tensor data record " + record);
    }
    auto [data, bytes] = m_records.getRecord(record);
    const std::size_t elementSize = c10::elementSize(dtype);
    if (static_cast<std::uint64_t>(numel) > bytes / elementSize) {
        fail("tensor data record " + record + " holds " + std::to_string(bytes) +
             " bytes, fewer than " + std::to_string(numel) + " elements");
    }
    auto storage = makeText(Kind::Object, "storage");
    storage->tensor = at::empty({numel}, at::TensorOptions().dtype(dtype));
    if (numel > 0) {
        std::memcpy(storage->tensor.data_ptr(), data.get(),
                    static_cast<std::size_t>(numel) * elementSize);
    }
    m_storages.emplace(key, storage);
    return storage;
}

PickleRef Unpickler::rebuildTensor(const std::vector<PickleRef>& args)
{
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata])
    if (args.size() < 4 || args[0]->kind != Kind::Object || args[0]->text != "storage" ||
        args[1]->kind != Kind::Int || args[2]->kind != Kind::Tuple ||
        args[3]->kind != Kind::Tuple || args[2]->items.size() != args[3]->items.size()) {
        fail("malformed tensor");
    }
    const at::Tensor& storage = args[0]->tensor;
    std::vector<std::int64_t> sizes;
    std::vector<std::int64_t> strides;
    const std::int64_t offset = args[1]->integer;
    std::int64_t last = offset;
    bool empty = false;
    for (std::size_t d = 0; d < args[2]->items.size(); ++d) {
        const PickleValue& size = *args[2]->items[d];
        const PickleValue& stride = *args[3]->items[d];
        if (size.kind != Kind::Int || stride.kind != Kind::Int || size.integer < 0 ||
            stride.integer < 0) {
            fail("malformed tensor shape");
        }
        sizes.push_back(size.integer);
        strides.push_back(stride.integer);
        empty = empty || size.integer == 0;
        std::int64_t reach = 0;
        if (size.integer > 0 && (__builtin_mul_overflow(size.integer - 1, stride.integer, &reach) ||
                                 __builtin_add_overflow(last, reach, &last))) {
            fail("tensor view overflows");
        }
    }
    // A view must stay inside its storage: a hostile file must not make us read past it.
    if (offset < 0 || (!empty && last >= storage.numel())) {
        fail("tensor view exceeds its storage");
    }
    auto tensor = make(Kind::Tensor);
    tensor->tensor =
        empty ? at::empty(sizes, storage.options()) : storage.as_strided(sizes, strides, offset);
    return tensor;
}

PickleRef Unpickler::reduce(const PickleRef& callable, const PickleRef& args)
{
    if (callable->kind != Kind::Object || args->kind != Kind::Tuple) {
        fail("REDUCE of " + callable->describe());
    }
    const std::string& name = callable->text;
    const std::vector<PickleRef>& a = args->items;
    if (name == "collections.OrderedDict" && a.empty()) {
        return make(Kind::Dict);
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
        return rebuildTensor(a);
    }
    if ((name == "torch._utils._rebuild_parameter" ||
         name == "torch._utils._rebuild_parameter_with_state") &&
        !a.empty() && a[0]->kind == Kind::Tensor) {
        return a[0];
    }
    // LibTorch's pickler tags typed containers and lists; the value itself is the first argument.
    if ((name == "torch.jit._pickle.restore_type_tag" ||
         name.rfind("torch.jit._pickle.build_", 0) == 0) &&
        !a.empty()) {
        return a[0];
    }
    if (name == "_codecs.encode" && a.size() == 2 && a[0]->kind == Kind::String) {
        bool ok = false;
        std::string bytes = latin1FromUtf8(a[0]->text, ok);
        if (ok) {
            return makeText(Kind::Bytes, std::move(bytes));
        }
    }
    if (name == "numpy.core.multiarray.scalar" || name == "numpy._core.multiarray.scalar") {
        if (PickleRef scalar = numpyScalar(a)) {
            return scalar;
        }
    }
    // Anything else stays an inert record of what would have been called.
    auto object = makeText(Kind::Object, name);
    object->items = a;
    return object;
}

PickleRef Unpickler::run()
{
    while (true) {
        const std::uint8_t op = *take(1);
        switch (op) {
        case 0x80: // PROTO
            take(1);
            break;
        case 0x95: // FRAME
            take(8);
            break;
        case '}':
            m_stack.push_back(make(Kind::Dict));
            break;
        case ']':
            m_stack.push_back(make(Kind::List));
            break;
        case ')':
            m_stack.push_back(make(Kind::Tuple));
            break;
        case '(':
            m_marks.push_back(m_stack.size());
            break;
        case 's': {
            PickleRef value = pop();
            PickleRef key = pop();
            setItems({std::move(key), std::move(value)});
            break;
        }
        case 'u':
            setItems(popToMark());
            break;
        case 'a': {
            PickleRef value = pop();
            appendItems({std::move(value)});
            break;
        }
        case 'e':
            appendItems(popToMark());
            break;
        case 't':
            m_stack.push_back(tuple(popToMark()));
            break;
        case 0x85:
        case 0x86:
        case 0x87: {
            std::vector<PickleRef> items(static_cast<std::size_t>(op - 0x84));
            for (auto it = items.rbegin(); it != items.rend(); ++it) {
                *it = pop();
            }
            m_stack.push_back(tuple(std::move(items)));
            break;
        }
        case 'N':
            m_stack.push_back(make(Kind::None));
            break;
        case 0x88:
        case 0x89: {
            auto b = make(Kind::Bool);
            b->boolean = op == 0x88;
            m_stack.push_back(b);
            break;
        }
        case 'J':
            m_stack.push_back(makeInt(static_cast<std::int32_t>(readLe(4))));
            break;
        case 'K':
            m_stack.push_back(makeInt(static_cast<std::int64_t>(readLe(1))));
            break;
        case 'M':
            m_stack.push_back(makeInt(static_cast<std::int64_t>(readLe(2))));
            break;
        case 0x8a:
        case 0x8b: { // LONG1, LONG4: little-endian two's complement
            const std::uint64_t n = op == 0x8a ? readLe(1) : readLe(4);
            if (n > 8) {
                fail("integer wider than 64 bits");
            }
            std::uint64_t raw = readLe(static_cast<std::size_t>(n));
            if (n > 0 && n < 8 && (raw >> (8 * n - 1)) != 0) {
                raw |= ~std::uint64_t{0} << (8 * n);
            }
            m_stack.push_back(makeInt(static_cast<std::int64_t>(raw)));
            break;
        }
        case 'G': { // BINFLOAT, big-endian
            const std::uint8_t* p = take(8);
            std::uint64_t raw = 0;
            for (int i = 0; i < 8; ++i) {
                raw = (raw << 8) | p[i];
            }
            auto f = make(Kind::Float);
            std::memcpy(&f->real, &raw, 8);
            m_stack.push_back(f);
            break;
        }
        case 'X':
            m_stack.push_back(makeText(Kind::String, readString(readLe(4))));
            break;
        case 0x8c:
            m_stack.push_back(makeText(Kind::String, readString(readLe(1))));
            break;
        case 0x8d:
            m_stack.push_back(makeText(Kind::String, readString(readLe(8))));
            break;
        case 'T':
            m_stack.push_back(makeText(Kind::String, readString(readLe(4))));
            break;
        case 'U':
            m_stack.push_back(makeText(Kind::String, readString(readLe(1))));
            break;
        case 'B':
            m_stack.push_back(makeText(Kind::Bytes, readString(readLe(4))));
            break;
        case 'C':
            m_stack.push_back(makeText(Kind::Bytes, readString(readLe(1))));
            break;
        case 0x8e:
            m_stack.push_back(makeText(Kind::Bytes, readString(readLe(8))));
            break;
        case 'q':
            memoPut(readLe(1));
            break;
        case 'r':
            memoPut(readLe(4));
            break;
        case 0x94:
            memoPut(m_memo.size());
            break;
        case 'h':
            memoGet(readLe(1));
            break;
        case 'j':
            memoGet(readLe(4));
            break;
        case 'c': {
            std::string module = readLine();
            std::string name = readLine();
            m_stack.push_back(makeText(Kind::Object, module + "." + name));
            break;
        }
        case 0x93: { // STACK_GLOBAL
            PickleRef name = pop();
            PickleRef module = pop();
            if (name->kind != Kind::String || module->kind != Kind::String) {
                fail("STACK_GLOBAL without names");
            }
            m_stack.push_back(makeText(Kind::Object, module->text + "." + name->text));
            break;
        }
        case 'R': {
            PickleRef args = pop();
            PickleRef callable = pop();
            m_stack.push_back(reduce(callable, args));
            break;
        }
        case 0x81: { // NEWOBJ: cls.__new__(cls, *args), kept inert like REDUCE
            PickleRef args = pop();
            PickleRef cls = pop();
            m_stack.push_back(reduce(cls, args));
            break;
        }
        case 0x92: { // NEWOBJ_EX
            pop();   // kwargs
            PickleRef args = pop();
            PickleRef cls = pop();
            m_stack.push_back(reduce(cls, args));
            break;
        }
        case 'b': { // BUILD: attach state to objects; a dict's instance attributes are dropped
            PickleRef state = pop();
            PickleRef& obj = top();
            if (obj->kind == Kind::Object) {
                obj->state = std::move(state);
            }
            break;
        }
        case 'Q': {
            PickleRef pid = pop();
            m_stack.push_back(persistentLoad(pid));
            break;
        }
        case '0':
            pop();
            break;
        case '1':
            popToMark();
            break;
        case '2':
            m_stack.push_back(top());
            break;
        case '.': {
            if (m_stack.size() != 1 || !m_marks.empty()) {
                fail("unbalanced stack at STOP");
            }
            return m_stack.back();
        }
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            fail(std::string("unsupported opcode ") + hex);
        }
        }
    }
}

} // namespace

PickleValue::~PickleValue()
{
    std::vector<PickleRef> pending;
    const auto adopt = [&pending](PickleValue& v) {
        for (auto& item : v.items) {
            pending.push_back(std::move(item));
        }
        for (auto& [k, value] : v.entries) {
            pending.push_back(std::move(k));
            pending.push_back(std::move(value));
        }
        if (v.state) {
            pending.push_back(std::move(v.state));
        }
        v.items.clear();
        v.entries.clear();
    };
    adopt(*this);
    while (!pending.empty()) {
        PickleRef next = std::move(pending.back());
        pending.pop_back();
        if (next && next.use_count() == 1) {
            adopt(*next);
        }
    }
}

const PickleValue* PickleValue::find(const std::string& key) const
{
    if (kind != Kind::Dict) {
        return nullptr;
    }
    for (const auto& [k, v] : entries) {
        if (k->kind == Kind::String && k->text == key) {
            return v.get();
        }
    }
    return nullptr;
}

std::string PickleValue::describe() const
{
    switch (kind) {
    case Kind::None:
        return "None";
    case Kind::Bool:
        return "bool";
    case Kind::Int:
        return "int";
    case Kind::Float:
        return "float";
    case Kind::String:
        return "string";
    case Kind::Bytes:
        return "bytes";
    case Kind::List:
        return "list";
    case Kind::Tuple:
        return "tuple";
    case Kind::Dict:
        return "dict";
    case Kind::Tensor:
        return "tensor";
    case Kind::Object:
        return text + " object";
    }
    return "value";
}

PickleRef TorchFileReader::read(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::NotFound, path, "file not found");
    }
    {
        std::ifstream probe(path, std::ios::binary);
        char magic[4] = {};
        if (!probe.read(magic, 4)) {
            throw Error(ErrorKind::Format, path, "file is too short to be a torch file");
        }
        if (std::memcmp(magic, "PK\x03\x04", 4) != 0) {
            throw Error(ErrorKind::Format, path,
                        "not a zip-format torch file (torch.save of torch >= 1.6); the legacy "
                        "format is not supported: load and re-save it with a recent torch");
        }
    }
    try {
        caffe2::serialize::PyTorchStreamReader records(path);
        if (records.hasRecord("byteorder")) {
            auto [order, size] = records.getRecord("byteorder");
            if (std::string(static_cast<const char*>(order.get()), size) != "little") {
                throw Error(ErrorKind::Format, path, "big-endian torch files are not supported");
            }
        }
        if (!records.hasRecord("data.pkl")) {
            throw Error(ErrorKind::Format, path, "no data.pkl record: not a torch.save file");
        }
        auto [pickle, size] = records.getRecord("data.pkl");
        Unpickler machine(path, static_cast<const std::uint8_t*>(pickle.get()), size, records);
        return machine.run();
    } catch (const c10::Error& e) {
        throw Error(ErrorKind::Format, path,
                    "corrupt or truncated torch file: " + firstLine(e.what_without_backtrace()));
    }
}

} // namespace diffseg::core::engine
