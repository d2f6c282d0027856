#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace diffseg::core::engine {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

/// One value of a pickled object tree, restricted to data: containers, scalars, strings, tensors,
/// and inert "objects" (a class name with its arguments and state) for everything else.
struct PickleValue
{
    enum class Kind
    {
        None,
        Bool,
        Int,
        Float,
        String,
        Bytes,
        List,
        Tuple,
        Dict,
        Tensor,
        Object ///< anything that is not plain data: `text` is "module.name"; never instantiated
    };

    Kind kind = Kind::None;
    bool boolean = false;
    std::int64_t integer = 0;
    double real = 0.0;
    std::string text;                                     ///< String, Bytes, Object's class name
    std::vector<PickleRef> items;                         ///< List, Tuple, Object's arguments
    std::vector<std::pair<PickleRef, PickleRef>> entries; ///< Dict, in insertion order
    PickleRef state;                                      ///< Object's BUILD state
    at::Tensor tensor;                                    ///< Tensor (and storages while parsing)

    PickleValue() = default;
    explicit PickleValue(Kind k)
        : kind(k)
    {}
    PickleValue(const PickleValue&) = delete;
    PickleValue& operator=(const PickleValue&) = delete;
    /// Iterative, so that a hostile, deeply nested file cannot overflow the stack.
    ~PickleValue();

    bool isDict() const noexcept { return kind == Kind::Dict; }
    /// The value of string key `key` in a Dict, or null.
    const PickleValue* find(const std::string& key) const;
    /// "dict", "tensor", "numpy.float64 object"... for error messages.
    std::string describe() const;
};

/// Reads files written by Python's torch.save (zip format, torch >= 1.6) or LibTorch's
/// pickle_save, WITHOUT running code from them: the pickle is interpreted by a restricted machine
/// that only builds containers, scalars, strings and tensors. Class references become inert
/// Object values (numpy scalars are decoded to numbers; OrderedDict becomes a dict; torch's tensor
/// rebuild functions become tensors, with every view checked against its storage's bounds).
/// This is what reads reference checkpoints, whose OrderedDict metadata, APPEND opcodes and numpy
/// scalars torch::pickle_load (LibTorch 1.13) rejects.
///
/// Tensors are returned on the CPU, whatever device they were saved from. Throws Error naming the
/// file: NotFound, Io, or Format (not a zip torch file, legacy pre-1.6 format, truncated or corrupt
/// data, unsupported opcode, out-of-bounds tensor view). Thread-safe (no shared state).
class TorchFileReader
{
public:
    static PickleRef read(const std::string& path);
};

} // namespace diffseg::core::engine
