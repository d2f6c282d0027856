// Pre-included by clang builds (see DiffsegDependencies.cmake). Debian's ITK 5.2 generated its
// itk_compiler_detection.h for GCC only, and the header stops with "Unsupported compiler" under
// clang. Clang implements every GCC feature the header checks, so let the detection run once as a
// recent GCC; its include guard then keeps ITK from running it again. The macros are restored.
#pragma clang system_header
#pragma push_macro("__clang__")
#pragma push_macro("__GNUC__")
#pragma push_macro("__GNUC_MINOR__")
#undef __clang__
#undef __GNUC__
#undef __GNUC_MINOR__
#define __GNUC__ 12
#define __GNUC_MINOR__ 2
#include <itk_compiler_detection.h>
#pragma pop_macro("__GNUC_MINOR__")
#pragma pop_macro("__GNUC__")
#pragma pop_macro("__clang__")
