#pragma once

#include "DatasetLayout.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace diffseg::core {

/// A train/validation/test split of case ids. Reproducible anywhere: ids are sorted before any
/// shuffling, the shuffle uses its own seeded generator (not std::shuffle, whose results differ
/// between standard libraries), and each list is stored sorted.
struct DatasetSplit
{
    std::vector<std::string> train;
    std::vector<std::string> val;
    std::vector<std::string> test;
    std::uint64_t seed = 0;
    std::string method; ///< how it was made, e.g. "fractions 0.8/0.1/0.1, shuffled"
};

struct SplitFractions
{
    double train = 0.8;
    double val = 0.1;
    double test = 0.1;
};

/// Half-open index ranges over the sorted ids.
struct SplitRanges
{
    std::size_t trainBegin = 0, trainEnd = 0;
    std::size_t valBegin = 0, valEnd = 0;
    std::size_t testBegin = 0, testEnd = 0;
};

/// Shuffles the sorted ids with `seed` and cuts them by the fractions (each >= 0, summing to 1;
/// validation and test sizes are rounded, training takes the rest). Throws Error(InvalidValue)
/// for bad fractions or duplicate ids.
DatasetSplit makeSplit(std::vector<std::string> ids, const SplitFractions& fractions,
                       std::uint64_t seed);

/// The reference's fixed index ranges (seed-spec A2.2): ISIC2018 [0,1815) [1815,2074)
/// [2074,2594), PH2 [0,80) [80,100) [100,200). Throws Error(Unsupported) for other layouts.
SplitRanges referenceSplitRanges(DatasetLayout layout);

/// Applies index ranges to the sorted ids, shuffled first when `seed` is given (the reference
/// cut its arrays in glob order, which we replace by sorted order). Throws Error(InvalidValue)
/// when the ranges need more ids than there are.
DatasetSplit makeRangeSplit(std::vector<std::string> ids, const SplitRanges& ranges,
                            std::optional<std::uint64_t> seed = std::nullopt);

/// JSON text: {"format": "diffseg-split", "version": 1, "seed", "method", "train", "val", "test"}.
std::string splitToJson(const DatasetSplit& split);
/// Parses splitToJson() text; `name` is used in error messages. Throws Error(Format) naming it and
/// the problem (syntax, missing or mistyped keys, ids listed twice).
DatasetSplit parseSplitJson(const std::string& text, const std::string& name);

/// Writes the split atomically; reads it back with full validation.
void writeSplit(const DatasetSplit& split, const std::string& path);
DatasetSplit readSplit(const std::string& path);

} // namespace diffseg::core
