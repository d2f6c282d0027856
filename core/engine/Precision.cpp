#include "Precision.h"

#include "base/EnumNames.h"
#include "base/Error.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace diffseg::core::engine {

namespace {

// The short names come first: they are what precisionName() writes. The torch dtype names
// "float32" and "bfloat16" are accepted too.
constexpr EnumName<Precision> kPrecisionNames[] = {{Precision::Auto, "auto"},
                                                   {Precision::Fp32, "fp32"},
                                                   {Precision::Bf16, "bf16"},
                                                   {Precision::Fp32, "float32"},
                                                   {Precision::Bf16, "bfloat16"}};

bool cpuidReportsBf16()
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0;
    unsigned b = 0;
    unsigned c = 0;
    unsigned d = 0;
    if (__get_cpuid_max(0, nullptr) < 7) {
        return false;
    }
    // Leaf 7 sub-leaf 0: EDX bit 22 AMX-BF16. Sub-leaf 1: EAX bit 5 AVX512-BF16.
    __cpuid_count(7, 0, a, b, c, d);
    const bool amxBf16 = (d & (1U << 22)) != 0;
    const unsigned subLeaves = a;
    bool avx512Bf16 = false;
    if (subLeaves >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        avx512Bf16 = (a & (1U << 5)) != 0;
    }
    // The operating system must also save the AVX-512 state (XCR0 bits 5-7) for AVX512-BF16
    // to be usable; AMX needs its tile state (bits 17-18).
    __cpuid(1, a, b, c, d);
    if ((c & (1U << 27)) == 0) { // no OSXSAVE: no XGETBV
        return false;
    }
    unsigned xcr0Low = 0;
    unsigned xcr0High = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0Low), "=d"(xcr0High) : "c"(0));
    const bool avx512State = (xcr0Low & 0xE6U) == 0xE6U;
    const bool amxState = (xcr0Low & (3U << 17)) == (3U << 17);
    return (avx512Bf16 && avx512State) || (amxBf16 && amxState);
#else
    return false;
#endif
}

} // namespace

const char* precisionName(Precision precision) noexcept
{
    return enumName(kPrecisionNames, precision, "auto");
}

Precision parsePrecision(const std::string& text, const std::string& subject)
{
    const auto precision = enumFromName(kPrecisionNames, text);
    if (!precision) {
        throw Error(ErrorKind::Config, subject,
                    "'" + text + "' is not " + enumChoices(kPrecisionNames));
    }
    return *precision;
}

bool cpuHasNativeBf16()
{
    if (const char* forced = std::getenv("DIFFSEG_CPU_BF16")) {
        if (std::strcmp(forced, "0") == 0) {
            return false;
        }
        if (std::strcmp(forced, "1") == 0) {
            return true;
        }
    }
    static const bool native = cpuidReportsBf16();
    return native;
}

} // namespace diffseg::core::engine
