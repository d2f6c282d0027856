#include "UncertaintyMaps.h"

#include "base/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace diffseg::core {

namespace {

constexpr double kEntropyClamp = 1e-6;
constexpr float kProbabilitySlack = 1e-6f;
const double kLn2 = std::log(2.0);

std::string memberName(std::size_t k)
{
    return "member " + std::to_string(k);
}

// --- grid adapters: the kernels below see only float pointers and a voxel count ---

std::size_t voxels(const Image2D& g)
{
    return g.pixelCount();
}
std::size_t voxels(const Volume& g)
{
    return g.voxelCount();
}
int channelCount(const Image2D& g)
{
    return g.channels();
}
int channelCount(const Volume& g)
{
    return g.channels();
}
std::string describe(const Image2D& g)
{
    return g.describe();
}
std::string describe(const Volume& g)
{
    return g.describe();
}
bool sameGrid(const Image2D& a, const Image2D& b)
{
    return a.width() == b.width() && a.height() == b.height();
}
bool sameGrid(const Volume& a, const Volume& b)
{
    return a.size() == b.size() && a.geometry().isClose(b.geometry());
}
Image2D scalarLike(const Image2D& like)
{
    Image2D out(like.width(), like.height(), 1, PixelType::Float32);
    out.setSpacing(like.spacing());
    return out;
}
Volume scalarLike(const Volume& like)
{
    return Volume(like.size(), 1, PixelType::Float32, like.geometry());
}

/// Multi-channel element (voxel n, class c): Image2D interleaves channels, Volume stacks planes.
std::size_t classIndex(const Image2D& g, std::size_t n, int c)
{
    return n * static_cast<std::size_t>(g.channels()) + static_cast<std::size_t>(c);
}
std::size_t classIndex(const Volume& g, std::size_t n, int c)
{
    return static_cast<std::size_t>(c) * g.voxelCount() + n;
}

template <class G>
void requireFloat(const G& g, const std::string& who, bool singleChannel)
{
    if (g.empty()) {
        throw Error(ErrorKind::InvalidValue, who, "map is empty");
    }
    if (g.pixelType() != PixelType::Float32 || (singleChannel && channelCount(g) != 1)) {
        throw Error(ErrorKind::InvalidValue, who,
                    std::string("expected a ") + (singleChannel ? "1-channel " : "") +
                        "float32 map, got " + describe(g));
    }
}

enum class Range
{
    Finite,
    Probability
};

/// Rejects non-finite values and probabilities beyond the slack; the kernels read probabilities
/// through clampUnit(), so values within the slack count as 0 or 1.
void requireValues(const float* v, std::size_t count, Range range, const std::string& who)
{
    // A branch-free scan first (it vectorises); the voxel is looked up only on failure.
    unsigned bad = 0;
    if (range == Range::Finite) {
        for (std::size_t n = 0; n < count; ++n) {
            bad |= std::abs(v[n]) <= std::numeric_limits<float>::max() ? 0u : 1u;
        }
    } else {
        for (std::size_t n = 0; n < count; ++n) {
            bad |= (v[n] >= -kProbabilitySlack && v[n] <= 1.0f + kProbabilitySlack) ? 0u : 1u;
        }
    }
    if (bad == 0) {
        return;
    }
    for (std::size_t n = 0; n < count; ++n) {
        const float x = v[n];
        if (!std::isfinite(x)) {
            throw Error(ErrorKind::InvalidValue, who,
                        "non-finite value at voxel " + std::to_string(n));
        }
        if (range == Range::Probability &&
            (x < -kProbabilitySlack || x > 1.0f + kProbabilitySlack)) {
            throw Error(ErrorKind::InvalidValue, who,
                        "probability " + std::to_string(x) + " at voxel " + std::to_string(n) +
                            " is outside [0, 1]");
        }
    }
}

float clampUnit(float x)
{
    return std::min(1.0f, std::max(0.0f, x));
}

/// Validates an ensemble and returns its member pointers.
template <class G>
std::vector<const float*> members(const std::vector<G>& maps, Range range)
{
    if (maps.empty()) {
        throw Error(ErrorKind::InvalidValue, "ensemble", "no members given");
    }
    std::vector<const float*> ptrs;
    for (std::size_t k = 0; k < maps.size(); ++k) {
        requireFloat(maps[k], memberName(k), true);
        if (!sameGrid(maps[k], maps[0])) {
            throw Error(ErrorKind::Mismatch, memberName(k),
                        "map is " + describe(maps[k]) + " but member 0 is " + describe(maps[0]));
        }
        requireValues(maps[k].template data<float>(), voxels(maps[k]), range, memberName(k));
        ptrs.push_back(maps[k].template data<float>());
    }
    return ptrs;
}

double binaryEntropyAt(double p)
{
    p = std::min(1.0 - kEntropyClamp, std::max(kEntropyClamp, p));
    return -p * std::log(p) - (1.0 - p) * std::log(1.0 - p);
}

/// Member value as the kernels read it: x0 mapped to a probability, or a clamped probability.
float memberValue(float v, Range range, bool fromX0)
{
    if (fromX0) {
        return clampUnit((v + 1.0f) * 0.5f);
    }
    return range == Range::Probability ? clampUnit(v) : v;
}

/// Voxels per block: the accumulators (16 KiB of doubles) stay in L1 while every member streams
/// through, instead of one pass over a full-size double array per member.
constexpr std::size_t kBlock = 2048;

/// Per-voxel mean over members of voxels [begin, begin + length) into `mean`.
void blockMean(const std::vector<const float*>& p, std::size_t begin, std::size_t length,
               Range range, bool fromX0, double* mean)
{
    std::fill(mean, mean + length, 0.0);
    for (const float* m : p) {
        const float* src = m + begin;
        for (std::size_t n = 0; n < length; ++n) {
            mean[n] += memberValue(src[n], range, fromX0);
        }
    }
    const double inv = 1.0 / static_cast<double>(p.size());
    for (std::size_t n = 0; n < length; ++n) {
        mean[n] *= inv;
    }
}

template <class G>
G meanOf(const std::vector<G>& maps, Range range, bool fromX0)
{
    const std::vector<const float*> p = members(maps, range);
    const std::size_t count = voxels(maps[0]);
    G out = scalarLike(maps[0]);
    float* o = out.template data<float>();
    double mean[kBlock];
    for (std::size_t begin = 0; begin < count; begin += kBlock) {
        const std::size_t length = std::min(kBlock, count - begin);
        blockMean(p, begin, length, range, fromX0, mean);
        for (std::size_t n = 0; n < length; ++n) {
            o[begin + n] = static_cast<float>(mean[n]);
        }
    }
    return out;
}

template <class G>
G stdOf(const std::vector<G>& maps)
{
    const std::vector<const float*> p = members(maps, Range::Probability);
    const std::size_t count = voxels(maps[0]);
    G out = scalarLike(maps[0]);
    float* o = out.template data<float>();
    const double inv = 1.0 / static_cast<double>(p.size());
    double mean[kBlock];
    double squares[kBlock];
    for (std::size_t begin = 0; begin < count; begin += kBlock) {
        const std::size_t length = std::min(kBlock, count - begin);
        // Two passes (mean, then squared deviations): no cancellation for nearly equal members.
        blockMean(p, begin, length, Range::Probability, false, mean);
        std::fill(squares, squares + length, 0.0);
        for (const float* m : p) {
            const float* src = m + begin;
            for (std::size_t n = 0; n < length; ++n) {
                const double d = clampUnit(src[n]) - mean[n];
                squares[n] += d * d;
            }
        }
        for (std::size_t n = 0; n < length; ++n) {
            o[begin + n] = static_cast<float>(std::sqrt(squares[n] * inv));
        }
    }
    return out;
}

/// A 1-channel float32 map of `input` (named `who`, its values checked against `range`) with
/// value(v) at every voxel: the kernels that look at one value at a time.
template <class G, class Value>
G mapValues(const G& input, const char* who, Range range, Value value)
{
    requireFloat(input, who, true);
    const float* in = input.template data<float>();
    const std::size_t count = voxels(input);
    requireValues(in, count, range, who);
    G out = scalarLike(input);
    float* o = out.template data<float>();
    for (std::size_t n = 0; n < count; ++n) {
        o[n] = value(in[n]);
    }
    return out;
}

template <class G>
G entropyOf(const G& probability, EntropyScale scale)
{
    const double norm = scale == EntropyScale::Normalised ? 1.0 / kLn2 : 1.0;
    return mapValues(probability, "probability", Range::Probability, [norm](float p) {
        return static_cast<float>(binaryEntropyAt(clampUnit(p)) * norm);
    });
}

template <class G>
G multiClassEntropyOf(const G& probabilities, EntropyScale scale)
{
    requireFloat(probabilities, "class probabilities", false);
    const int classes = channelCount(probabilities);
    if (classes < 2) {
        throw Error(ErrorKind::InvalidValue, "class probabilities",
                    "need at least 2 classes (channels), got " + std::to_string(classes));
    }
    const float* p = probabilities.template data<float>();
    const std::size_t count = voxels(probabilities);
    requireValues(p, count * static_cast<std::size_t>(classes), Range::Probability,
                  "class probabilities");
    G out = scalarLike(probabilities);
    float* o = out.template data<float>();
    const double norm =
        scale == EntropyScale::Normalised ? 1.0 / std::log(static_cast<double>(classes)) : 1.0;
    for (std::size_t n = 0; n < count; ++n) {
        double sum = 0.0;
        double h = 0.0;
        for (int c = 0; c < classes; ++c) {
            const double pc = clampUnit(p[classIndex(probabilities, n, c)]);
            sum += pc;
            if (pc > 0.0) {
                h -= pc * std::log(pc);
            }
        }
        if (std::abs(sum - 1.0) > 1e-3) {
            throw Error(ErrorKind::InvalidValue, "class probabilities",
                        "classes sum to " + std::to_string(sum) + " at voxel " + std::to_string(n) +
                            ", not 1");
        }
        o[n] = static_cast<float>(h * norm);
    }
    return out;
}

template <class G>
G probabilityOf(const G& x0)
{
    return mapValues(x0, "x0", Range::Finite, [](float x) { return clampUnit((x + 1.0f) * 0.5f); });
}

template <class G>
G instabilityOf(const std::vector<std::vector<G>>& trajectories)
{
    if (trajectories.empty()) {
        throw Error(ErrorKind::InvalidValue, "step instability", "no members given");
    }
    const G* first = nullptr;
    for (std::size_t k = 0; k < trajectories.size(); ++k) {
        const auto& steps = trajectories[k];
        if (steps.size() < 2) {
            throw Error(ErrorKind::InvalidValue, memberName(k),
                        "step instability needs at least 2 x0 estimates, got " +
                            std::to_string(steps.size()));
        }
        for (std::size_t i = 0; i < steps.size(); ++i) {
            const std::string who = memberName(k) + ", estimate " + std::to_string(i);
            requireFloat(steps[i], who, true);
            if (first == nullptr) {
                first = &steps[i];
            } else if (!sameGrid(steps[i], *first)) {
                throw Error(ErrorKind::Mismatch, who,
                            "map is " + describe(steps[i]) + " but member 0 is " +
                                describe(*first));
            }
            requireValues(steps[i].template data<float>(), voxels(steps[i]), Range::Finite, who);
        }
    }
    G out = scalarLike(*first);
    float* o = out.template data<float>();
    const std::size_t count = voxels(*first);
    std::vector<double> acc(count, 0.0);
    for (const auto& steps : trajectories) {
        const double perFlip = 1.0 / static_cast<double>(steps.size() - 1);
        for (std::size_t i = 1; i < steps.size(); ++i) {
            const float* prev = steps[i - 1].template data<float>();
            const float* cur = steps[i].template data<float>();
            for (std::size_t n = 0; n < count; ++n) {
                acc[n] += ((prev[n] > 0.0f) != (cur[n] > 0.0f)) ? perFlip : 0.0;
            }
        }
    }
    const double k = static_cast<double>(trajectories.size());
    for (std::size_t n = 0; n < count; ++n) {
        o[n] = static_cast<float>(acc[n] / k);
    }
    return out;
}

} // namespace

Image2D ensembleMean(const std::vector<Image2D>& m)
{
    return meanOf(m, Range::Finite, false);
}
Volume ensembleMean(const std::vector<Volume>& m)
{
    return meanOf(m, Range::Finite, false);
}
Image2D ensembleStd(const std::vector<Image2D>& p)
{
    return stdOf(p);
}
Volume ensembleStd(const std::vector<Volume>& p)
{
    return stdOf(p);
}
Image2D binaryEntropy(const Image2D& p, EntropyScale scale)
{
    return entropyOf(p, scale);
}
Volume binaryEntropy(const Volume& p, EntropyScale scale)
{
    return entropyOf(p, scale);
}
Image2D predictiveEntropy(const std::vector<Image2D>& p, EntropyScale scale)
{
    return entropyOf(meanOf(p, Range::Probability, false), scale);
}
Volume predictiveEntropy(const std::vector<Volume>& p, EntropyScale scale)
{
    return entropyOf(meanOf(p, Range::Probability, false), scale);
}
Image2D multiClassEntropy(const Image2D& p, EntropyScale scale)
{
    return multiClassEntropyOf(p, scale);
}
Volume multiClassEntropy(const Volume& p, EntropyScale scale)
{
    return multiClassEntropyOf(p, scale);
}
Image2D probabilityFromX0(const Image2D& x0)
{
    return probabilityOf(x0);
}
Volume probabilityFromX0(const Volume& x0)
{
    return probabilityOf(x0);
}
Image2D ensembleProbabilityFromX0(const std::vector<Image2D>& x0)
{
    return meanOf(x0, Range::Finite, true);
}
Volume ensembleProbabilityFromX0(const std::vector<Volume>& x0)
{
    return meanOf(x0, Range::Finite, true);
}
Image2D stepInstability(const std::vector<std::vector<Image2D>>& t)
{
    return instabilityOf(t);
}
Volume stepInstability(const std::vector<std::vector<Volume>>& t)
{
    return instabilityOf(t);
}

} // namespace diffseg::core
