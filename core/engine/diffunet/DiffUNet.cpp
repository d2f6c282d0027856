#include "DiffUNet.h"

#include "base/Error.h"
#include "engine/model/ParameterCount.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/utils.h>

#include <cmath>
#include <map>

namespace diffseg::core::engine {

namespace {

constexpr int kTimeDim = 32;
constexpr int kSinusoidalDim = 16;
constexpr double kBitScale = 0.001;
constexpr double kPi = 3.14159265358979323846;

std::string shapeText(const at::Tensor& t)
{
    std::string s = "[";
    for (std::int64_t i = 0; i < t.dim(); ++i) {
        s += (i ? ", " : "") + std::to_string(t.size(i));
    }
    return s + "]";
}

torch::nn::Conv3d pointwise(int in, int out)
{
    return torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, 1).bias(true));
}

torch::nn::ConvTranspose3d upsampling(int in, int out)
{
    return torch::nn::ConvTranspose3d(torch::nn::ConvTranspose3dOptions(in, out, 2).stride(2));
}

/// A plain container module, so that parameter names keep the reference's dotted paths.
std::shared_ptr<torch::nn::Module> container(torch::nn::Module& parent, const std::string& name)
{
    return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

/// Appends `stage` to `stages` inside a one-element ModuleList, as the reference nests each
/// encoder stage (`stages.k.0.convs...`).
template <class Stage>
void pushWrapped(torch::nn::ModuleListImpl& stages, const Stage& stage)
{
    torch::nn::ModuleList wrapper;
    wrapper->push_back(stage);
    stages.push_back(wrapper);
}

/// The decoder both U-Nets share, as `owner.decoder` with the reference's names: per level from
/// the bottom (features `f`), a transposed convolution up (`transpconvs`), a stage over
/// cat[up, skip] from `makeStage(in, out)` (`stages`) and a 1x1x1 segmentation head
/// (`seg_layers`), built in that order (the order their initial weights are drawn in).
template <class Stage, class MakeStage>
void buildDecoder(torch::nn::Module& owner, const DiffUNetConfig& config, const std::vector<int>& f,
                  std::vector<torch::nn::ConvTranspose3d>& up, std::vector<Stage>& stages,
                  std::vector<torch::nn::Conv3d>& seg, MakeStage makeStage)
{
    const int n = config.nStages;
    auto decoder = container(owner, "decoder");
    auto dStages = decoder->register_module("stages", torch::nn::ModuleList());
    auto ups = decoder->register_module("transpconvs", torch::nn::ModuleList());
    auto segs = decoder->register_module("seg_layers", torch::nn::ModuleList());
    for (int s = 1; s < n; ++s) {
        const int below = f[n - s];
        const int skip = f[n - s - 1];
        up.push_back(upsampling(below, skip));
        ups->push_back(up.back());
        stages.push_back(makeStage(2 * skip, skip));
        dStages->push_back(stages.back());
        seg.push_back(pointwise(skip, config.numClasses));
        segs->push_back(seg.back());
    }
}

at::Tensor tauTensor(double tau, std::int64_t batch, const at::TensorOptions& options)
{
    return at::full({batch}, tau, options);
}

} // namespace

ConvNormActImpl::ConvNormActImpl(int in, int out, int stride)
{
    m_conv = register_module(
        "conv", torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, 3).stride(stride).padding(1)));
    m_norm = register_module(
        "norm",
        torch::nn::InstanceNorm3d(
            torch::nn::InstanceNorm3dOptions(out).eps(1e-5).affine(true).track_running_stats(
                false)));
}

at::Tensor ConvNormActImpl::forward(const at::Tensor& x)
{
    return at::leaky_relu(m_norm->forward(m_conv->forward(x)), 0.01);
}

PlainStageImpl::PlainStageImpl(int convs, int in, int out, int stride)
{
    m_convs = register_module("convs", torch::nn::ModuleList());
    for (int i = 0; i < convs; ++i) {
        m_convs->push_back(ConvNormAct(i == 0 ? in : out, out, i == 0 ? stride : 1));
    }
}

at::Tensor PlainStageImpl::forward(const at::Tensor& x)
{
    at::Tensor y = x;
    for (const auto& conv : *m_convs) {
        y = conv->as<ConvNormActImpl>()->forward(y);
    }
    return y;
}

TimeStageImpl::TimeStageImpl(int convs, int in, int out, int stride, int timeDim)
{
    m_conv0 = register_module("conv0", ConvNormAct(in, out, stride));
    m_convs = register_module("convs", torch::nn::ModuleList());
    for (int i = 1; i < convs; ++i) {
        m_convs->push_back(ConvNormAct(out, out, 1));
    }
    m_tembProj = register_module("temb_proj", torch::nn::Linear(timeDim, out));
}

at::Tensor TimeStageImpl::forward(const at::Tensor& x, const at::Tensor& temb)
{
    at::Tensor y = m_conv0->forward(x);
    const at::Tensor time = m_tembProj->forward(temb * at::sigmoid(temb));
    y = y + time.reshape({time.size(0), time.size(1), 1, 1, 1});
    for (const auto& conv : *m_convs) {
        y = conv->as<ConvNormActImpl>()->forward(y);
    }
    return y;
}

LearnedSinusoidalEmbeddingImpl::LearnedSinusoidalEmbeddingImpl(int dim)
{
    m_weights = register_parameter("weights", torch::randn({dim / 2}));
}

at::Tensor LearnedSinusoidalEmbeddingImpl::forward(const at::Tensor& s)
{
    const at::Tensor x = s.reshape({-1, 1}).to(m_weights.scalar_type());
    const at::Tensor freqs = x * m_weights.reshape({1, -1}) * 2 * kPi;
    return at::cat({x, at::sin(freqs), at::cos(freqs)}, 1);
}

EdgeUNetImpl::EdgeUNetImpl(const DiffUNetConfig& config)
{
    const std::vector<int> f = config.featuresPerStage();
    const int n = config.nStages;
    auto encoder = container(*this, "encoder");
    auto stages = encoder->register_module("stages", torch::nn::ModuleList());
    int in = config.inChannels;
    for (int s = 0; s < n; ++s) {
        PlainStage stage(config.convsPerStage, in, f[s], s == 0 ? 1 : 2);
        pushWrapped(*stages, stage);
        m_encoder.push_back(stage);
        in = f[s];
    }
    buildDecoder(*this, config, f, m_up, m_decoder, m_seg, [&](int stageIn, int stageOut) {
        return PlainStage(config.convsPerStage, stageIn, stageOut, 1);
    });
}

at::Tensor EdgeUNetImpl::forward(const at::Tensor& image, std::vector<at::Tensor>& skips)
{
    skips.clear();
    at::Tensor x = image;
    for (auto& stage : m_encoder) {
        x = stage->forward(x);
        skips.push_back(x);
    }
    at::Tensor low = skips.back();
    const auto n = skips.size();
    for (std::size_t s = 0; s < m_decoder.size(); ++s) {
        at::Tensor up = m_up[s]->forward(low);
        low = m_decoder[s]->forward(at::cat({up, skips[n - s - 2]}, 1));
    }
    return m_seg.back()->forward(low);
}

DenoiseUNetImpl::DenoiseUNetImpl(const DiffUNetConfig& config)
    : m_config(config)
{
    const std::vector<int> f = config.featuresPerStage();
    const int n = config.nStages;
    auto encoder = container(*this, "encoder");
    auto stages = encoder->register_module("stages", torch::nn::ModuleList());
    auto transforms = encoder->register_module("transforms", torch::nn::ModuleList());
    int in = config.inChannels + config.numClasses;
    for (int s = 0; s < n; ++s) {
        TimeStage stage(config.convsPerStage, in, f[s], s == 0 ? 1 : 2, kTimeDim);
        pushWrapped(*stages, stage);
        m_encoder.push_back(stage);
        // The last transform is never used (the bottleneck fuses by affinity); it is kept so that
        // reference state_dicts load.
        m_transforms.push_back(pointwise(2 * f[s], f[s]));
        transforms->push_back(m_transforms.back());
        in = f[s];
    }
    buildDecoder(*this, config, f, m_up, m_decoder, m_seg, [&](int stageIn, int stageOut) {
        return TimeStage(config.convsPerStage, stageIn, stageOut, 1, kTimeDim);
    });
    m_embedding = register_module("embedding_table",
                                  torch::nn::Embedding(config.numClasses, config.numClasses));
    auto timeMlp = register_module("time_mlp", torch::nn::ModuleList());
    m_posEmb = LearnedSinusoidalEmbedding(kSinusoidalDim);
    m_time1 = torch::nn::Linear(kSinusoidalDim + 1, kTimeDim);
    m_time2 = torch::nn::Linear(kTimeDim, kTimeDim);
    timeMlp->push_back(m_posEmb);
    timeMlp->push_back(m_time1);
    timeMlp->push_back(torch::nn::GELU());
    timeMlp->push_back(m_time2);
}

at::Tensor DenoiseUNetImpl::timeEmbedding(const at::Tensor& s)
{
    return m_time2->forward(at::gelu(m_time1->forward(m_posEmb->forward(s))));
}

at::Tensor DenoiseUNetImpl::forward(const at::Tensor& x, const at::Tensor& temb,
                                    const std::vector<at::Tensor>& edge)
{
    const bool fuse = m_config.mba && !edge.empty();
    if (fuse && edge.size() != m_encoder.size()) {
        throw Error(ErrorKind::Mismatch, "Diff-UNet edge features",
                    std::to_string(edge.size()) + " feature maps for " +
                        std::to_string(m_encoder.size()) + " stages");
    }
    std::vector<at::Tensor> skips;
    at::Tensor y = x;
    for (std::size_t s = 0; s < m_encoder.size(); ++s) {
        y = m_encoder[s]->forward(y, temb);
        if (fuse) {
            at::Tensor e = edge[s];
            if (e.size(0) != y.size(0)) {
                e = e.repeat({y.size(0) / e.size(0), 1, 1, 1, 1});
            }
            y = s + 1 == m_encoder.size() ? affinityFusion(y, e)
                                          : m_transforms[s]->forward(at::cat({y, e}, 1));
        }
        skips.push_back(y);
    }
    at::Tensor low = skips.back();
    const auto n = skips.size();
    for (std::size_t s = 0; s < m_decoder.size(); ++s) {
        const at::Tensor up = m_up[s]->forward(low);
        low = m_decoder[s]->forward(at::cat({up, skips[n - s - 2]}, 1), temb);
    }
    return m_seg.back()->forward(low);
}

at::Tensor DenoiseUNetImpl::encodeMask(const at::Tensor& labels)
{
    const at::Tensor e = m_embedding->forward(labels.to(at::kLong)); // (B, D, H, W, C)
    return (at::sigmoid(e.permute({0, 4, 1, 2, 3})) * 2 - 1) * kBitScale;
}

at::Tensor affinityFusion(const at::Tensor& a, const at::Tensor& b)
{
    const auto sizes = b.sizes();
    const std::int64_t batch = b.size(0);
    const std::int64_t channels = b.size(1);
    const at::Tensor anchor = a.flatten(2);                    // (B, C, N)
    const at::Tensor bf = b.reshape({batch, channels, -1});    // (B, C, N)
    const at::Tensor bSquared = bf.pow(2).sum(1).unsqueeze(2); // (B, N, 1)
    const at::Tensor ab = at::bmm(bf.transpose(1, 2), anchor); // (B, N_b, N_a)
    const at::Tensor affinity = at::softmax((2 * ab - bSquared) / std::sqrt(double(channels)), 1);
    return at::bmm(bf, affinity).view(sizes);
}

at::Tensor softmaxEntropy(const at::Tensor& logits)
{
    const at::Tensor p = at::softmax(logits, 1).clamp(1e-4, 0.9999);
    return -(p * at::log(p)).sum(1);
}

at::Tensor softDiceLoss(const at::Tensor& logits, const at::Tensor& labels)
{
    const std::int64_t classes = logits.size(1);
    const at::Tensor p = at::softmax(logits.to(at::kFloat), 1).narrow(1, 1, classes - 1);
    const at::Tensor y = at::one_hot(labels, classes)
                             .permute({0, 4, 1, 2, 3})
                             .narrow(1, 1, classes - 1)
                             .to(p.scalar_type());
    const std::vector<std::int64_t> pooled{0, 2, 3, 4};
    const at::Tensor overlap = (p * y).sum(pooled);
    const at::Tensor sizes = p.sum(pooled) + y.sum(pooled);
    constexpr double kSmooth = 1e-5;
    return 1.0 - ((2.0 * overlap + kSmooth) / (sizes + kSmooth)).mean();
}

DiffUNetImpl::DiffUNetImpl(const DiffUNetConfig& config)
    : m_config(config)
{
    config.validate("Diff-UNet config");
    m_edge = register_module("edge_model", EdgeUNet(config));
    m_denoise = register_module("denoise_model", DenoiseUNet(config));
}

void DiffUNetImpl::checkImage(const at::Tensor& image) const
{
    if (!image.defined() || image.dim() != 5 || image.size(1) != m_config.inChannels) {
        throw Error(ErrorKind::Mismatch, "Diff-UNet image",
                    "expected (B, " + std::to_string(m_config.inChannels) + ", D, H, W), got " +
                        (image.defined() ? shapeText(image) : "nothing"));
    }
    const int m = m_config.sizeMultiple();
    for (int d = 2; d < 5; ++d) {
        if (image.size(d) % m != 0 || image.size(d) == 0) {
            throw Error(ErrorKind::Mismatch, "Diff-UNet image",
                        "sides must be multiples of " + std::to_string(m) + ", got " +
                            shapeText(image));
        }
    }
}

DiffUNetSample DiffUNetImpl::sample(const at::Tensor& image, const DiffUNetSampleOptions& options,
                                    const DiffUNetStepCallback& callback, const CancelToken& cancel)
{
    checkImage(image);
    if (options.steps < 1 || options.steps > 1000) {
        throw Error(ErrorKind::Config, "Diff-UNet steps", "must lie in [1, 1000]");
    }
    const std::int64_t b = image.size(0);
    const int c = m_config.numClasses;
    DiffUNetSample out;
    std::vector<at::Tensor> features;
    cancel.throwIfCancelled("Diff-UNet sampling");
    out.edgeLogits = m_edge->forward(image, features);

    auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    const auto cpu = image.options().device(at::kCPU);
    at::Tensor mask = at::randn({b, c, image.size(2), image.size(3), image.size(4)}, generator, cpu)
                          .to(image.device());
    const auto times = LogSnrSchedule::samplingTimes(options.steps);
    const auto checkLabels = [&](const at::Tensor& labels, const char* what) {
        if (labels.dim() != 4 || labels.size(0) != b ||
            labels.sizes().slice(1) != image.sizes().slice(2)) {
            throw Error(ErrorKind::Mismatch, what,
                        "expected (B, D, H, W) matching the image " + shapeText(image) + ", got " +
                            shapeText(labels));
        }
    };
    // Guidance: the known voxels and their code, held at every step.
    at::Tensor known;
    at::Tensor knownCode;
    if (options.knownLabels.defined()) {
        checkLabels(options.knownLabels, "Diff-UNet known labels");
        known = options.knownLabels.ge(0).unsqueeze(1);
        knownCode = m_denoise->encodeMask(options.knownLabels.clamp(0, c - 1));
    }
    int first = 0;
    if (options.startLabels.defined() && options.startStep > 0) {
        checkLabels(options.startLabels, "Diff-UNet start labels");
        if (options.startStep >= options.steps) {
            throw Error(ErrorKind::Config, "Diff-UNet start step",
                        "must be below the number of steps");
        }
        first = options.startStep;
        // The current labels, forward-noised to the level the first remaining step expects (the
        // noise already drawn serves, so the draws stay those of an unguided run).
        const double lambda = LogSnrSchedule::logSnr(times[static_cast<std::size_t>(first)].first);
        mask = LogSnrSchedule::alpha(lambda) *
                   m_denoise->encodeMask(options.startLabels.clamp(0, c - 1)) +
               LogSnrSchedule::sigma(lambda) * mask;
    }
    at::Tensor fusedSum;
    at::Tensor weightSum;
    for (int i = first; i < options.steps; ++i) {
        cancel.throwIfCancelled("Diff-UNet sampling");
        const auto [tauNow, tauNext] = times[static_cast<std::size_t>(i)];
        const double lambda = LogSnrSchedule::logSnr(tauNow);
        const double lambdaNext = LogSnrSchedule::logSnr(tauNext);
        const double alpha = LogSnrSchedule::alpha(lambda);
        const double sigma = LogSnrSchedule::sigma(lambda);
        const double alphaNext = LogSnrSchedule::alpha(lambdaNext);
        const double sigmaNext = LogSnrSchedule::sigma(lambdaNext);
        if (known.defined()) {
            const at::Tensor noise = at::randn(mask.sizes(), generator, cpu).to(image.device());
            mask = at::where(known, alpha * knownCode + sigma * noise, mask);
        }
        const at::Tensor temb = m_denoise->timeEmbedding(
            tauTensor(options.timeAsLogSnr ? lambda : tauNow, b, image.options()));
        const at::Tensor logits = m_denoise->forward(at::cat({image, mask}, 1), temb, features);
        const at::Tensor x0 = m_denoise->encodeMask(logits.argmax(1));
        const at::Tensor eps = (mask - alpha * x0) / std::max(sigma, 1e-8);
        mask = alphaNext * x0 + sigmaNext * eps;
        const int ran = i - first + 1; // steps run so far
        if (options.fusion == StepFusion::Mean) {
            fusedSum = fusedSum.defined() ? fusedSum + logits : logits.clone();
            weightSum = at::scalar_tensor(double(ran));
        } else {
            // SUF: steps the model is sure about weigh more, later steps more than early ones.
            const at::Tensor u = softmaxEntropy(logits).unsqueeze(1);
            const double ramp = 1.0 / (1.0 + std::exp(-double(i + 1) / options.steps));
            const at::Tensor w = at::exp(ramp * (1 - u));
            fusedSum = fusedSum.defined() ? fusedSum + w * logits : w * logits;
            weightSum = weightSum.defined() ? weightSum + w : w;
        }
        const at::Tensor fused = fusedSum / weightSum.to(fusedSum.device());
        out.stepLogits.push_back(logits);
        if (callback) {
            callback(DiffUNetStep{i - first, options.steps - first, tauNow, tauNext, logits, fused,
                                  out.edgeLogits});
        }
    }
    out.logits = fusedSum / weightSum.to(fusedSum.device()) + out.edgeLogits;
    if (known.defined()) {
        // The user's word is final where it was given: a clear margin for the known class.
        const at::Tensor oneHot =
            at::one_hot(options.knownLabels.clamp(0, c - 1), c).permute({0, 4, 1, 2, 3});
        out.logits =
            at::where(known, oneHot.to(out.logits.scalar_type()) * 20.0 - 10.0, out.logits);
    }
    return out;
}

DiffUNetLoss DiffUNetImpl::trainingLoss(const at::Tensor& image, const at::Tensor& labels,
                                        const DiffUNetLossOptions& options,
                                        at::Generator& generator)
{
    checkImage(image);
    if (labels.dim() != 4 || labels.size(0) != image.size(0) ||
        labels.sizes().slice(1) != image.sizes().slice(2)) {
        throw Error(ErrorKind::Mismatch, "Diff-UNet labels",
                    "expected (B, D, H, W) matching the image " + shapeText(image) + ", got " +
                        shapeText(labels));
    }
    const std::int64_t b = image.size(0);
    const auto cpu = image.options().device(at::kCPU);
    const at::Tensor y = labels.to(at::kLong);

    std::vector<at::Tensor> features;
    const at::Tensor edgeLogits = m_edge->forward(image, features);

    // A rank of a data-parallel job draws tau and the noise for the whole global batch and keeps
    // its rows, so that N ranks see the draws one process with the global batch would.
    const std::int64_t g = options.globalRows > 0 ? options.globalRows : b;
    const auto ownRows = [&](const at::Tensor& all, std::int64_t blocks) {
        if (g == b) {
            return all;
        }
        std::vector<std::int64_t> grouped{blocks, g};
        std::vector<std::int64_t> kept{blocks * b};
        for (std::int64_t d = 1; d < all.dim(); ++d) {
            grouped.push_back(all.size(d));
            kept.push_back(all.size(d));
        }
        return all.reshape(grouped).slice(1, options.firstRow, g, options.rowStride).reshape(kept);
    };
    const auto noisedInput = [&](std::int64_t blocks, const at::Tensor& x0, const at::Tensor& img) {
        const at::Tensor tau = ownRows(at::rand({blocks * g}, generator, cpu), blocks) * 0.999;
        std::vector<std::int64_t> noiseShape = x0.sizes().vec();
        noiseShape[0] = blocks * g;
        const at::Tensor noise =
            ownRows(at::randn(noiseShape, generator, cpu), blocks).to(x0.device());
        const at::Tensor c = at::cos((tau + 2e-4) / (1 + 2.5e-4) * kPi * 0.5);
        const at::Tensor lambda = -at::log((c.pow(-2) - 1).clamp_min(1e-5));
        const at::Tensor alpha =
            at::sqrt(at::sigmoid(lambda)).to(x0.device()).view({-1, 1, 1, 1, 1});
        const at::Tensor sigma =
            at::sqrt(at::sigmoid(-lambda)).to(x0.device()).view({-1, 1, 1, 1, 1});
        return std::make_pair(at::cat({img, alpha * x0 + sigma * noise}, 1),
                              m_denoise->timeEmbedding(tau.to(img.device(), img.scalar_type())));
    };

    const at::Tensor x0 = m_denoise->encodeMask(y);
    const auto [input, temb] = noisedInput(1, x0, image);
    const at::Tensor logits = m_denoise->forward(input, temb, features);

    at::Tensor uncertainty;
    {
        torch::NoGradGuard noGrad;
        const int k = options.mcSamples;
        const at::Tensor x0k = x0.detach().repeat({k, 1, 1, 1, 1});
        const at::Tensor imagek = image.repeat({k, 1, 1, 1, 1});
        std::vector<at::Tensor> detached;
        for (const auto& f : features) {
            detached.push_back(f.detach());
        }
        const auto [inputk, tembk] = noisedInput(k, x0k, imagek);
        const at::Tensor mc = m_denoise->forward(inputk, tembk, detached);
        const auto rest = mc.sizes().slice(1).vec();
        std::vector<std::int64_t> shape;
        at::Tensor mean;
        if (options.fixMcReshape) {
            // repeat() stacked the copies as (k, B): average over k for each sample.
            shape = {k, b};
            shape.insert(shape.end(), rest.begin(), rest.end());
            mean = mc.reshape(shape).mean(0);
        } else {
            shape = {b, k};
            shape.insert(shape.end(), rest.begin(), rest.end());
            mean = mc.reshape(shape).mean(1);
        }
        uncertainty = softmaxEntropy(mean).clamp(0, 1);
    }

    DiffUNetLoss loss;
    const double progress = options.maxEpoch > 0 ? options.epoch / options.maxEpoch : 1.0;
    loss.uncertaintyWeight = std::exp(-10.0 * (1.0 - progress) * (1.0 - progress));
    loss.ceEdge = at::cross_entropy_loss(edgeLogits, y);
    if (options.voxelwise) {
        const at::Tensor ceVoxels =
            at::cross_entropy_loss(logits, y, {}, at::Reduction::None); // (B, D, H, W)
        loss.ce = ceVoxels.mean();
        loss.total =
            loss.ce + loss.ceEdge + loss.uncertaintyWeight * (ceVoxels * uncertainty).mean();
    } else {
        loss.ce = at::cross_entropy_loss(logits, y);
        loss.total =
            loss.ce + loss.ceEdge + loss.uncertaintyWeight * (loss.ce * uncertainty).mean();
    }
    if (options.diceWeight > 0.0 && m_config.numClasses > 1) {
        loss.dice = softDiceLoss(logits, y) + softDiceLoss(edgeLogits, y);
        loss.total = loss.total + options.diceWeight * loss.dice;
    }
    loss.uncertainty = uncertainty;
    return loss;
}

std::int64_t DiffUNetImpl::parameterCount() const
{
    return countParameters(*this);
}

} // namespace diffseg::core::engine

namespace diffseg::core::engine {

NamedTensors canonicalDiffUNetWeights(const NamedTensors& weights, const std::string& source)
{
    // ConvDropoutNormReLU's all_modules Sequential holds conv (0) and norm (1) again.
    const auto canonicalName = [](std::string name) {
        const std::string decoderEncoder = ".decoder.encoder.";
        if (const auto at = name.find(decoderEncoder); at != std::string::npos) {
            name.replace(at, decoderEncoder.size(), ".encoder.");
        }
        for (const auto& [alias, real] :
             {std::pair<std::string, std::string>{".all_modules.0.", ".conv."},
              {".all_modules.1.", ".norm."}}) {
            if (const auto at = name.find(alias); at != std::string::npos) {
                name.replace(at, alias.size(), real);
            }
        }
        return name;
    };
    std::map<std::string, const at::Tensor*> canonical;
    for (const auto& [name, tensor] : weights) {
        if (canonicalName(name) == name) {
            canonical.emplace(name, &tensor);
        }
    }
    NamedTensors out;
    for (const auto& [name, tensor] : weights) {
        const std::string real = canonicalName(name);
        if (real == name) {
            out.emplace_back(name, tensor);
            continue;
        }
        const auto it = canonical.find(real);
        if (it == canonical.end()) {
            throw Error(ErrorKind::Mismatch, source,
                        "'" + name + "' is an alias of '" + real + "', which is missing");
        }
        if (!it->second->sizes().equals(tensor.sizes()) || !it->second->equal(tensor)) {
            throw Error(ErrorKind::Mismatch, source,
                        "'" + name + "' differs from '" + real + "' although they are one module");
        }
    }
    return out;
}

} // namespace diffseg::core::engine
