// Entry point: parseSplitJson() on arbitrary text; a parsed split must survive a round trip.
#include "base/Error.h"
#include "data/DatasetSplit.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace diffseg::core;
    try {
        const DatasetSplit split =
            parseSplitJson(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
        const DatasetSplit again = parseSplitJson(splitToJson(split), "fuzz.json");
        if (again.train != split.train || again.val != split.val || again.test != split.test ||
            again.seed != split.seed) {
            __builtin_trap();
        }
    } catch (const Error&) {
    }
    return 0;
}
