#pragma once

#include "base/CancelToken.h"
#include "base/Progress.h"
#include "data/DatasetLayout.h"
#include "data/DatasetSplit.h"

#include <cstdint>
#include <string>
#include <vector>

namespace diffseg::core::engine {

struct DermoSegDiffTrainingConfig;

/// One case resized to the model's input size: RGB pixels (row-major, interleaved, S*S*3) and
/// the mask (S*S, values {0, 1}).
struct CachedSample
{
    std::string id;
    std::vector<std::uint8_t> image;
    std::vector<std::uint8_t> mask;
};

/// The dataset of a training run, resized and split.
///
/// Images are resized like the reference caches them (bilinear, no antialiasing) and kept as
/// uint8; normalisation happens per batch. The resized arrays are cached in one file named by
/// the layout, the size and a hash of the source files (paths, sizes, modification times), in
/// `dataset.cache_dir`, else `<data_dir>/.diffseg-cache/`, else `~/.cache/diffseg/` when the data
/// folder is read-only, so a second run skips decoding. A damaged cache is rebuilt.
struct TrainingData
{
    int size = 0;
    DatasetLayout layout = DatasetLayout::ImagesMasks;
    std::string root;
    std::vector<CachedSample> samples; ///< every case, sorted by id
    std::vector<std::size_t> train;    ///< indices into samples
    std::vector<std::size_t> val;
    std::vector<std::size_t> test;
    DatasetSplit split;
    std::string cachePath;
    bool cacheHit = false;
};

/// Scans `config.dataDir` (layout from dataset.name, detected when it names none), loads or
/// builds the resized cache and makes the split: the one in `splitPath` when that file exists
/// (a resumed run keeps its split), else per dataset.split; the split is then written to
/// `splitPath` atomically. `dataset.data_scale` shrinks the training part as the reference does.
///
/// Threads: decodes on up to `threads` threads. Throws Error naming the file for unreadable or
/// mismatched images, Error(Config) when a split part the run needs is empty, Error(Cancelled).
TrainingData prepareTrainingData(const DermoSegDiffTrainingConfig& config,
                                 const std::string& splitPath, int threads,
                                 const ProgressCallback& progress, const CancelToken& cancel);

} // namespace diffseg::core::engine
