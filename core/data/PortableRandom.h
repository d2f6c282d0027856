#pragma once

#include <cstdint>

namespace diffseg::core {

/// A small pseudo-random generator whose output depends only on the seed: the same numbers on
/// every compiler, standard library and CPU (unlike std::uniform_*_distribution and
/// std::normal_distribution, whose algorithms are left to each library).
///
/// The state is xoshiro256** seeded through splitmix64. Integers and uniforms are exact integer
/// arithmetic; normal() uses Box-Muller with std::log/std::sqrt/std::cos, whose results agree to
/// the last bit on IEEE-754 platforms with a correctly rounded libm (glibc, musl, MSVC in
/// practice). Value type: copy it to fork a stream. Not thread-safe: one generator per thread.
class PortableRandom
{
public:
    explicit PortableRandom(std::uint64_t seed) noexcept;
    /// An independent stream for (seed, stream): e.g. one per pipeline step, so that the numbers
    /// a step draws do not depend on which steps ran before it.
    static PortableRandom derived(std::uint64_t seed, std::uint64_t stream) noexcept;

    std::uint64_t nextU64() noexcept;
    /// Uniform in [0, 1), 53 random bits.
    double uniform() noexcept;
    /// Uniform in [lo, hi) (lo when lo == hi); lo > hi is allowed and behaves like Python's
    /// random.uniform.
    double uniform(double lo, double hi) noexcept;
    /// Uniform integer in [lo, hi], both included, without modulo bias; lo when hi < lo.
    std::int64_t uniformInt(std::int64_t lo, std::int64_t hi) noexcept;
    /// True with probability p (p <= 0: never, p >= 1: always).
    bool chance(double p) noexcept;
    /// Standard normal N(0, 1) (Box-Muller; the second value of each pair is kept for the next
    /// call).
    double normal() noexcept;
    double normal(double mean, double stddev) noexcept { return mean + stddev * normal(); }

private:
    std::uint64_t m_state[4];
    double m_spare = 0.0;
    bool m_hasSpare = false;
};

} // namespace diffseg::core
