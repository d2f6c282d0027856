#include "PortableRandom.h"

#include <cmath>

namespace diffseg::core {

namespace {

std::uint64_t splitMix64(std::uint64_t& x) noexcept
{
    x += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::uint64_t rotateLeft(std::uint64_t x, int k) noexcept
{
    return (x << k) | (x >> (64 - k));
}

} // namespace

PortableRandom::PortableRandom(std::uint64_t seed) noexcept
{
    // splitmix64 never yields four zero words from one seed, so the xoshiro state is valid.
    std::uint64_t s = seed;
    for (std::uint64_t& word : m_state) {
        word = splitMix64(s);
    }
}

PortableRandom PortableRandom::derived(std::uint64_t seed, std::uint64_t stream) noexcept
{
    // Hash the pair through splitmix so that neighbouring seeds/streams are unrelated.
    std::uint64_t s = seed;
    const std::uint64_t a = splitMix64(s);
    std::uint64_t t = stream ^ 0xD1B54A32D192ED03ULL;
    const std::uint64_t b = splitMix64(t);
    return PortableRandom(a ^ rotateLeft(b, 17));
}

std::uint64_t PortableRandom::nextU64() noexcept
{
    const std::uint64_t result = rotateLeft(m_state[1] * 5, 7) * 9;
    const std::uint64_t t = m_state[1] << 17;
    m_state[2] ^= m_state[0];
    m_state[3] ^= m_state[1];
    m_state[1] ^= m_state[2];
    m_state[0] ^= m_state[3];
    m_state[2] ^= t;
    m_state[3] = rotateLeft(m_state[3], 45);
    return result;
}

double PortableRandom::uniform() noexcept
{
    return static_cast<double>(nextU64() >> 11) * 0x1.0p-53;
}

double PortableRandom::uniform(double lo, double hi) noexcept
{
    return lo + (hi - lo) * uniform();
}

std::int64_t PortableRandom::uniformInt(std::int64_t lo, std::int64_t hi) noexcept
{
    if (hi <= lo) {
        return lo;
    }
    const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (span == UINT64_MAX) {
        return static_cast<std::int64_t>(nextU64());
    }
    const std::uint64_t range = span + 1;
    // Reject the top partial block so that every value is equally likely.
    const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % range + 1) % range;
    std::uint64_t x = nextU64();
    while (x > limit) {
        x = nextU64();
    }
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + x % range);
}

bool PortableRandom::chance(double p) noexcept
{
    // Python's `random.random() < p`: p = 1 always passes because uniform() < 1.
    return uniform() < p;
}

double PortableRandom::normal() noexcept
{
    if (m_hasSpare) {
        m_hasSpare = false;
        return m_spare;
    }
    const double u1 = 1.0 - uniform(); // (0, 1]: log stays finite
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586 * u2;
    m_spare = radius * std::sin(angle);
    m_hasSpare = true;
    return radius * std::cos(angle);
}

} // namespace diffseg::core
