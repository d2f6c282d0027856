#include "StepCache.h"

#include "X0Quantisation.h"
#include "base/EnumNames.h"
#include "base/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace diffseg::core {

namespace {

constexpr int kMaxMembers = 4096;
constexpr int kMaxSteps = 1 << 20;

std::string mib(std::size_t bytes)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
    return buf;
}

std::string frameName(int member, int step)
{
    return "member " + std::to_string(member) + ", step " + std::to_string(step);
}

constexpr EnumName<FrameKind> kFrameKindNames[] = {{FrameKind::X0, "x0"},
                                                   {FrameKind::Noisy, "x_t"}};

} // namespace

const char* frameKindName(FrameKind kind) noexcept
{
    return enumName(kFrameKindNames, kind, "x0");
}

StepCacheConfig StepCacheConfig::forImage(int width, int height, int members, int steps)
{
    StepCacheConfig c;
    c.size = {width, height, 1};
    c.dimensions = 2;
    c.members = members;
    c.steps = steps;
    return c;
}

StepCacheConfig StepCacheConfig::forVolume(const std::array<std::int64_t, 3>& size,
                                           const Geometry& geometry, int members, int steps)
{
    StepCacheConfig c;
    c.size = size;
    c.dimensions = 3;
    c.geometry = geometry;
    c.members = members;
    c.steps = steps;
    return c;
}

Image2D StepFrame::image() const
{
    if (!valid() || values.empty()) {
        throw Error(ErrorKind::InvalidValue, "step frame", "no frame is stored for this request");
    }
    if (values.size()[2] != 1) {
        throw Error(ErrorKind::InvalidValue, "step frame",
                    "a 3D frame (" + values.describe() + ") has no 2D image view");
    }
    Image2D out =
        Image2D::wrap(static_cast<int>(values.size()[0]), static_cast<int>(values.size()[1]), 1,
                      PixelType::Float32, values.buffer());
    out.setSpacing({values.geometry().spacing[0], values.geometry().spacing[1]});
    return out;
}

std::vector<int> StepCache::planKeptSteps(int steps, std::int64_t capacity, int denseTail)
{
    if (steps < 1) {
        throw Error(ErrorKind::Config, "steps", "must be at least 1, got " + std::to_string(steps));
    }
    if (capacity < std::min(steps, 2)) {
        throw Error(ErrorKind::Config, "budgetBytes",
                    "room for " + std::to_string(capacity) +
                        " steps per member; the first and last steps need 2");
    }
    std::vector<int> kept;
    if (capacity >= steps) {
        for (int s = 0; s < steps; ++s) {
            kept.push_back(s);
        }
        return kept;
    }
    const int c = static_cast<int>(capacity); // < steps, so it fits an int
    const int tail = std::max(1, std::min(std::max(0, denseTail), c / 2));
    const int head = steps - tail; // steps before the tail, > 0 because tail <= c/2 < steps
    const int stride = (head + (c - tail) - 1) / (c - tail);
    for (int s = 0; s < head; s += stride) {
        kept.push_back(s);
    }
    for (int s = head; s < steps; ++s) {
        kept.push_back(s);
    }
    return kept;
}

StepCache::StepCache(StepCacheConfig config)
    : m_config(std::move(config))
{
    StepCacheConfig& c = m_config;
    if (c.dimensions != 2 && c.dimensions != 3) {
        throw Error(ErrorKind::Config, "dimensions",
                    "must be 2 or 3, got " + std::to_string(c.dimensions));
    }
    for (std::int64_t s : c.size) {
        if (s < 1 || s > Volume::kMaxSide) {
            throw Error(ErrorKind::Config, "size",
                        "frame size " + std::to_string(c.size[0]) + "x" +
                            std::to_string(c.size[1]) + "x" + std::to_string(c.size[2]) +
                            " is outside 1.." + std::to_string(Volume::kMaxSide) + " per axis");
        }
    }
    if (c.dimensions == 2 && c.size[2] != 1) {
        throw Error(ErrorKind::Config, "size",
                    "a 2D cache has one slice, not " + std::to_string(c.size[2]));
    }
    if (!c.geometry.isValid()) {
        throw Error(ErrorKind::Config, "geometry",
                    "spacing must be positive and the direction orthonormal");
    }
    if (c.members < 1 || c.members > kMaxMembers) {
        throw Error(ErrorKind::Config, "members",
                    "must be in 1.." + std::to_string(kMaxMembers) + ", got " +
                        std::to_string(c.members));
    }
    if (c.steps < 1 || c.steps > kMaxSteps) {
        throw Error(ErrorKind::Config, "steps",
                    "must be in 1.." + std::to_string(kMaxSteps) + ", got " +
                        std::to_string(c.steps));
    }
    if (c.denseTail < 0) {
        throw Error(ErrorKind::Config, "denseTail",
                    "must be >= 0, got " + std::to_string(c.denseTail));
    }
    if (!c.timesteps.empty() && c.timesteps.size() != static_cast<std::size_t>(c.steps)) {
        throw Error(ErrorKind::Config, "timesteps",
                    "has " + std::to_string(c.timesteps.size()) + " entries for " +
                        std::to_string(c.steps) + " steps");
    }
    if (c.budgetBytes == 0) {
        c.budgetBytes = c.dimensions == 2 ? StepCacheConfig::kDefaultBudget2D
                                          : StepCacheConfig::kDefaultBudget3D;
    }
    m_voxels = static_cast<std::size_t>(c.size[0] * c.size[1] * c.size[2]);
    const std::size_t kinds = c.storeNoisy ? 2 : 1;
    const std::size_t perStep = kinds * static_cast<std::size_t>(c.members) * m_voxels;
    const auto capacity = static_cast<std::int64_t>(
        std::min<std::size_t>(c.budgetBytes / perStep, static_cast<std::size_t>(kMaxSteps)));
    if (capacity < std::min(c.steps, 2)) {
        throw Error(ErrorKind::Config, "budgetBytes",
                    "a budget of " + mib(c.budgetBytes) +
                        " cannot hold the first and last steps (" + mib(perStep) +
                        " per step for " + std::to_string(c.members) + " members)");
    }
    m_keptSteps = planKeptSteps(c.steps, capacity, c.denseTail);
    m_slotOfStep.assign(static_cast<std::size_t>(c.steps), -1);
    for (std::size_t slot = 0; slot < m_keptSteps.size(); ++slot) {
        m_slotOfStep[static_cast<std::size_t>(m_keptSteps[slot])] = static_cast<int>(slot);
    }
    m_frames.resize(kinds * static_cast<std::size_t>(c.members) * m_keptSteps.size());
}

std::size_t StepCache::bytesUsed() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_bytesUsed;
}

void StepCache::checkMember(int member) const
{
    if (member < 0 || member >= m_config.members) {
        throw Error(ErrorKind::InvalidValue, "member",
                    std::to_string(member) + " is outside 0.." +
                        std::to_string(m_config.members - 1));
    }
}

void StepCache::checkStep(int step) const
{
    if (step < 0 || step >= m_config.steps) {
        throw Error(ErrorKind::InvalidValue, "step",
                    std::to_string(step) + " is outside 0.." + std::to_string(m_config.steps - 1));
    }
}

void StepCache::checkKind(FrameKind kind) const
{
    if (kind == FrameKind::Noisy && !m_config.storeNoisy) {
        throw Error(ErrorKind::Config, "storeNoisy", "x_t frames were not enabled for this cache");
    }
}

std::size_t StepCache::tableIndex(FrameKind kind, int member, int slot) const noexcept
{
    const std::size_t k = kind == FrameKind::Noisy ? 1 : 0;
    return (k * static_cast<std::size_t>(m_config.members) + static_cast<std::size_t>(member)) *
               m_keptSteps.size() +
           static_cast<std::size_t>(slot);
}

bool StepCache::isKept(int step) const noexcept
{
    return step >= 0 && step < m_config.steps && m_slotOfStep[static_cast<std::size_t>(step)] >= 0;
}

bool StepCache::put(int member, int step, const float* values, std::size_t count, FrameKind kind)
{
    checkMember(member);
    checkStep(step);
    checkKind(kind);
    if (values == nullptr) {
        throw Error(ErrorKind::InvalidValue, frameName(member, step), "no values given");
    }
    if (count != m_voxels) {
        throw Error(ErrorKind::Mismatch, frameName(member, step),
                    std::to_string(count) + " values given for a frame of " +
                        std::to_string(m_voxels) + " voxels");
    }
    // A NaN is checked even in dropped steps: it means the model diverged, which the caller must
    // hear about at once rather than at the next kept step.
    unsigned nonFinite = 0; // an integer OR, not an early exit, so that the loop vectorises
    for (std::size_t n = 0; n < count; ++n) {
        nonFinite |= std::abs(values[n]) <= std::numeric_limits<float>::max() ? 0u : 1u;
    }
    if (nonFinite != 0) {
        throw Error(ErrorKind::InvalidValue, frameName(member, step),
                    std::string("non-finite value in the ") + frameKindName(kind) + " frame");
    }
    const int slot = m_slotOfStep[static_cast<std::size_t>(step)];
    if (slot < 0) {
        return false;
    }
    auto frame = std::make_shared<Frame>();
    frame->codes.resize(count);
    std::uint8_t* codes = frame->codes.data();
    if (kind == FrameKind::X0) {
        frame->centre = 0.0f; // code * 2/255 - 1 = (code - 127.5) * 2/255
        frame->scale = kX0CodeStep;
        for (std::size_t n = 0; n < count; ++n) {
            codes[n] = quantiseX0(values[n]);
        }
    } else {
        const auto [lo, hi] = std::minmax_element(values, values + count);
        // Range and centre without float overflow, even for extreme finite values.
        const double range = static_cast<double>(*hi) - static_cast<double>(*lo);
        const float centre = 0.5f * *lo + 0.5f * *hi;
        frame->centre = centre;
        frame->scale = static_cast<float>(range / 255.0);
        const float inverse = range > 0.0 ? static_cast<float>(255.0 / range) : 0.0f;
        for (std::size_t n = 0; n < count; ++n) {
            // |value - centre| <= range / 2 fits a float; + 128 = + 127.5 and a half for rounding
            const float code = (values[n] - centre) * inverse + 128.0f;
            codes[n] = static_cast<std::uint8_t>(std::min(255.0f, std::max(0.0f, code)));
        }
    }
    FramePtr published = std::move(frame);
    FramePtr replaced;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        FramePtr& entry = m_frames[tableIndex(kind, member, slot)];
        if (!entry) {
            m_bytesUsed += count;
        }
        replaced = std::move(entry);
        entry = std::move(published);
    }
    return true; // `replaced` is freed here, outside the lock
}

bool StepCache::put(int member, int step, const Image2D& frame, FrameKind kind)
{
    if (frame.empty() || frame.channels() != 1 || frame.pixelType() != PixelType::Float32 ||
        frame.width() != m_config.size[0] || frame.height() != m_config.size[1] ||
        m_config.size[2] != 1) {
        throw Error(ErrorKind::Mismatch, frameName(member, step),
                    "frame is " + frame.describe() + " but the cache holds 1-channel float32 " +
                        std::to_string(m_config.size[0]) + "x" + std::to_string(m_config.size[1]) +
                        "x" + std::to_string(m_config.size[2]) + " frames");
    }
    return put(member, step, frame.data<float>(), frame.pixelCount(), kind);
}

bool StepCache::put(int member, int step, const Volume& frame, FrameKind kind)
{
    if (frame.empty() || frame.channels() != 1 || frame.pixelType() != PixelType::Float32 ||
        frame.size() != m_config.size) {
        throw Error(ErrorKind::Mismatch, frameName(member, step),
                    "frame is " + frame.describe() + " but the cache holds 1-channel float32 " +
                        std::to_string(m_config.size[0]) + "x" + std::to_string(m_config.size[1]) +
                        "x" + std::to_string(m_config.size[2]) + " frames");
    }
    return put(member, step, frame.data<float>(), frame.voxelCount(), kind);
}

int StepCache::nearestStoredSlot(FrameKind kind, int member, int step) const
{
    int best = -1;
    int bestDistance = std::numeric_limits<int>::max();
    for (std::size_t slot = 0; slot < m_keptSteps.size(); ++slot) {
        if (!m_frames[tableIndex(kind, member, static_cast<int>(slot))]) {
            continue;
        }
        const int distance = std::abs(m_keptSteps[slot] - step);
        if (distance <= bestDistance) { // ascending steps: on a tie the later one wins
            bestDistance = distance;
            best = static_cast<int>(slot);
        }
    }
    return best;
}

void StepCache::dequantise(const Frame& frame, float* out) const
{
    const std::uint8_t* codes = frame.codes.data();
    const float scale = frame.scale;
    const float centre = frame.centre;
    for (std::size_t n = 0; n < m_voxels; ++n) {
        out[n] = centre + scale * (static_cast<float>(codes[n]) - 127.5f);
    }
}

StepFrame StepCache::makeFrame(int member, int requestedStep, int step, FrameKind kind) const
{
    StepFrame f;
    f.member = member;
    f.requestedStep = requestedStep;
    f.step = step;
    f.kind = kind;
    if (step >= 0) {
        Geometry g = m_config.geometry;
        f.values = Volume(m_config.size, 1, PixelType::Float32, g);
    }
    return f;
}

std::pair<StepCache::FramePtr, int> StepCache::nearestStored(FrameKind kind, int member,
                                                             int step) const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    const int slot = nearestStoredSlot(kind, member, step);
    if (slot < 0) {
        return {nullptr, -1};
    }
    return {m_frames[tableIndex(kind, member, slot)], m_keptSteps[static_cast<std::size_t>(slot)]};
}

StepFrame StepCache::get(int member, int step, FrameKind kind) const
{
    checkMember(member);
    checkStep(step);
    checkKind(kind);
    const auto [frame, actual] = nearestStored(kind, member, step);
    StepFrame out = makeFrame(member, step, actual, kind);
    if (frame) {
        out.memberCount = 1;
        dequantise(*frame, out.values.data<float>());
    }
    return out;
}

int StepCache::getInto(int member, int step, float* out, std::size_t count, FrameKind kind) const
{
    checkMember(member);
    checkStep(step);
    checkKind(kind);
    if (out == nullptr || count != m_voxels) {
        throw Error(ErrorKind::Mismatch, frameName(member, step),
                    "output buffer of " + std::to_string(count) + " floats for a frame of " +
                        std::to_string(m_voxels) + " voxels");
    }
    const auto [frame, actual] = nearestStored(kind, member, step);
    if (frame) {
        dequantise(*frame, out);
    }
    return actual;
}

StepFrame StepCache::meanOverMembers(int step, FrameKind kind) const
{
    checkStep(step);
    checkKind(kind);
    std::vector<FramePtr> frames;
    int actual = -1;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        int bestSlot = -1;
        int bestDistance = std::numeric_limits<int>::max();
        for (std::size_t slot = 0; slot < m_keptSteps.size(); ++slot) {
            bool any = false;
            for (int m = 0; m < m_config.members && !any; ++m) {
                any = static_cast<bool>(m_frames[tableIndex(kind, m, static_cast<int>(slot))]);
            }
            const int distance = std::abs(m_keptSteps[slot] - step);
            if (any && distance <= bestDistance) {
                bestDistance = distance;
                bestSlot = static_cast<int>(slot);
            }
        }
        if (bestSlot >= 0) {
            actual = m_keptSteps[static_cast<std::size_t>(bestSlot)];
            for (int m = 0; m < m_config.members; ++m) {
                if (const FramePtr& f = m_frames[tableIndex(kind, m, bestSlot)]) {
                    frames.push_back(f);
                }
            }
        }
    }
    StepFrame out = makeFrame(-1, step, actual, kind);
    if (frames.empty()) {
        return out;
    }
    out.memberCount = static_cast<int>(frames.size());
    float* o = out.values.data<float>(); // zero-filled by the allocation
    const float inv = 1.0f / static_cast<float>(frames.size());
    for (const FramePtr& f : frames) {
        // One pass per member straight from the codes: o += (centre + scale (code - 127.5)) / K.
        const std::uint8_t* codes = f->codes.data();
        const float scale = f->scale * inv;
        const float centre = f->centre * inv;
        for (std::size_t n = 0; n < m_voxels; ++n) {
            o[n] += centre + scale * (static_cast<float>(codes[n]) - 127.5f);
        }
    }
    return out;
}

StepFrame StepCache::stepInstability(int lastSteps) const
{
    if (lastSteps < 1) {
        throw Error(ErrorKind::InvalidValue, "lastSteps",
                    "must be at least 1, got " + std::to_string(lastSteps));
    }
    struct Trajectory
    {
        std::vector<FramePtr> frames;
        std::vector<int> steps;
    };
    std::vector<Trajectory> trajectories;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        for (int m = 0; m < m_config.members; ++m) {
            Trajectory t;
            for (int slot = static_cast<int>(m_keptSteps.size()) - 1;
                 slot >= 0 && static_cast<int>(t.frames.size()) <= lastSteps; --slot) {
                if (const FramePtr& f = m_frames[tableIndex(FrameKind::X0, m, slot)]) {
                    t.frames.push_back(f);
                    t.steps.push_back(m_keptSteps[static_cast<std::size_t>(slot)]);
                }
            }
            if (t.frames.size() >= 2) {
                std::reverse(t.frames.begin(), t.frames.end());
                std::reverse(t.steps.begin(), t.steps.end());
                trajectories.push_back(std::move(t));
            }
        }
    }
    if (trajectories.empty()) {
        throw Error(ErrorKind::InvalidValue, "step instability",
                    "no member has two stored x0 steps yet");
    }
    const std::vector<int>& longest =
        std::max_element(trajectories.begin(), trajectories.end(),
                         [](const Trajectory& a, const Trajectory& b) {
                             return a.steps.back() < b.steps.back() ||
                                    (a.steps.back() == b.steps.back() &&
                                     a.steps.size() < b.steps.size());
                         })
            ->steps;
    StepFrame out = makeFrame(-1, m_config.steps - 1, longest.back(), FrameKind::X0);
    out.steps = longest;
    out.memberCount = static_cast<int>(trajectories.size());
    std::vector<float> acc(m_voxels, 0.0f);
    for (const Trajectory& t : trajectories) {
        const float perFlip = 1.0f / static_cast<float>(t.frames.size() - 1);
        for (std::size_t i = 1; i < t.frames.size(); ++i) {
            const std::uint8_t* prev = t.frames[i - 1]->codes.data();
            const std::uint8_t* cur = t.frames[i]->codes.data();
            for (std::size_t n = 0; n < m_voxels; ++n) {
                // The code keeps the sign of x0 exactly (X0Quantisation.h), so flips are exact.
                const bool a = prev[n] >= kX0FirstPositiveCode;
                const bool b = cur[n] >= kX0FirstPositiveCode;
                acc[n] += a != b ? perFlip : 0.0f;
            }
        }
    }
    float* o = out.values.data<float>();
    const float inv = 1.0f / static_cast<float>(trajectories.size());
    for (std::size_t n = 0; n < m_voxels; ++n) {
        o[n] = acc[n] * inv;
    }
    return out;
}

std::vector<int> StepCache::storedSteps(int member, FrameKind kind) const
{
    checkMember(member);
    checkKind(kind);
    std::vector<int> out;
    std::lock_guard<std::mutex> lock(m_mutex);
    for (std::size_t slot = 0; slot < m_keptSteps.size(); ++slot) {
        if (m_frames[tableIndex(kind, member, static_cast<int>(slot))]) {
            out.push_back(m_keptSteps[slot]);
        }
    }
    return out;
}

void StepCache::clear()
{
    std::vector<FramePtr> dropped;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        dropped.swap(m_frames);
        m_frames.resize(dropped.size());
        m_bytesUsed = 0;
    }
}

} // namespace diffseg::core
