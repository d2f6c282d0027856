#include "DermoSegDiff.h"

#include "ParameterCount.h"
#include "base/Error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <optional>
#include <sstream>

namespace diffseg::core::engine {

namespace {

std::string shapeText(const at::Tensor& t)
{
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

} // namespace

DermoSegDiffImpl::DermoSegDiffImpl(const DermoSegDiffConfig& config, WeightInit init)
    : m_config(config)
{
    config.validate("model");
    const std::vector<int> dx = config.dimsX();
    const std::vector<int> dg = config.dimsG();
    const int levels = config.levels();
    const std::int64_t groups = config.resnetBlockGroups;
    const std::int64_t timeX = 4 * config.dimX;
    const std::int64_t timeG = 4 * config.dimG;

    // Registration order follows the reference's __init__, so state_dict order matches too.
    auto encoders = register_module("encoder_blocks", NameScope());
    auto decoders = register_module("decoder_blocks", NameScope());
    m_timeX1 = registerAtPath(*this, "time_mlp_x.1", LinearLayer(config.dimX, timeX, init));
    m_timeX2 = registerAtPath(*this, "time_mlp_x.3", LinearLayer(timeX, timeX, init));
    m_timeG1 = registerAtPath(*this, "time_mlp_g.1", LinearLayer(config.dimG, timeG, init));
    m_timeG2 = registerAtPath(*this, "time_mlp_g.3", LinearLayer(timeG, timeG, init));
    m_initX = register_module("init_conv_x", Conv2dLayer(config.channelsX, dx[0], 1, true, init));
    m_initG = register_module("init_conv_g", Conv2dLayer(config.channelsG, dg[0], 1, true, init));

    using Direction = ResampleConvImpl::Direction;
    for (int l = 0; l < levels; ++l) {
        const bool last = l == levels - 1;
        auto level = encoders->register_module(std::to_string(l), NameScope());
        m_encoders.push_back(
            level->register_module("0", EncoderModule(dx[l], dg[l], timeX, timeG, groups, init)));
        m_downG.push_back(LevelTransition::make(*level, "1", last, Direction::Down, dg[l] + dx[l],
                                                dg[l + 1], init));
        m_downX.push_back(
            LevelTransition::make(*level, "2", last, Direction::Down, dx[l], dx[l + 1], init));
    }
    m_bottleneck = register_module(
        "bottleneck", BottleneckModule(dx[levels] + dg[levels], dx[levels], timeX, init));
    for (int ind = 0; ind < levels; ++ind) {
        const bool last = ind == levels - 1;
        const int dimIn = dx[levels - 1 - ind];
        const int dimOut = dx[levels - ind];
        const int skip = dg[levels - 1 - ind] + dimIn;
        auto level = decoders->register_module(std::to_string(ind), NameScope());
        m_decoders.push_back(
            level->register_module("0", DecoderModule(skip + dimOut, dimOut, timeX, groups, init)));
        m_ups.push_back(
            LevelTransition::make(*level, "1", last, Direction::Up, dimOut, dimIn, init));
    }
    m_finalBlock = register_module(
        "final_rb", ResnetBlock(2 * config.dimX + config.dimG, config.dimX, timeX, 1, init));
    m_finalConv =
        register_module("final_conv", Conv2dLayer(config.dimX, config.outDim, 1, true, init));
}

void DermoSegDiffImpl::checkInputs(const at::Tensor& xT, const at::Tensor& g,
                                   const at::Tensor& t) const
{
    if (!xT.defined() || !g.defined() || !t.defined()) {
        throw Error(ErrorKind::InvalidValue, "DermoSegDiff input", "x_t, g and t must all be set");
    }
    if (xT.dim() != 4 || xT.size(1) != m_config.channelsX) {
        throw Error(ErrorKind::Mismatch, "x_t",
                    "expected (B, " + std::to_string(m_config.channelsX) + ", H, W), got " +
                        shapeText(xT));
    }
    if (g.dim() != 4 || g.size(1) != m_config.channelsG) {
        throw Error(ErrorKind::Mismatch, "g",
                    "expected (B, " + std::to_string(m_config.channelsG) + ", H, W), got " +
                        shapeText(g));
    }
    if (g.size(0) != xT.size(0) || g.size(2) != xT.size(2) || g.size(3) != xT.size(3)) {
        throw Error(ErrorKind::Mismatch, "g",
                    "shape " + shapeText(g) + " does not match x_t " + shapeText(xT));
    }
    if (t.dim() != 1 || t.size(0) != xT.size(0)) {
        throw Error(ErrorKind::Mismatch, "t",
                    "expected one timestep per batch row (" + std::to_string(xT.size(0)) +
                        "), got shape " + shapeText(t));
    }
    const int multiple = m_config.sizeMultiple();
    if (xT.size(0) == 0 || xT.size(2) == 0 || xT.size(3) == 0 || xT.size(2) % multiple != 0 ||
        xT.size(3) % multiple != 0) {
        throw Error(ErrorKind::InvalidValue, "x_t",
                    "size " + std::to_string(xT.size(3)) + "x" + std::to_string(xT.size(2)) +
                        " must be a non-empty multiple of " + std::to_string(multiple) + " (" +
                        std::to_string(m_config.levels()) + " levels)");
    }
    const at::Tensor& weight = m_initX->weight();
    for (const auto& [name, tensor] :
         {std::pair<const char*, const at::Tensor&>{"x_t", xT}, {"g", g}}) {
        if (tensor.scalar_type() != weight.scalar_type()) {
            throw Error(ErrorKind::InvalidValue, name,
                        std::string("dtype ") + c10::toString(tensor.scalar_type()) +
                            " differs from the model's " + c10::toString(weight.scalar_type()));
        }
    }
    for (const auto& [name, tensor] :
         {std::pair<const char*, const at::Tensor&>{"x_t", xT}, {"g", g}, {"t", t}}) {
        if (tensor.device() != weight.device()) {
            throw Error(ErrorKind::Mismatch, name,
                        "is on " + tensor.device().str() + " but the model is on " +
                            weight.device().str());
        }
    }
}

at::Tensor DermoSegDiffImpl::timeEmbedding(const at::Tensor& t, std::int64_t dim,
                                           LinearLayer& first, LinearLayer& second) const
{
    // Sinusoidal embedding with the sin half first, computed in float32 as the reference does.
    const std::int64_t half = dim / 2;
    const double step = std::log(10000.0) / static_cast<double>(half - 1);
    const auto options = at::TensorOptions().dtype(at::kFloat).device(t.device());
    const at::Tensor freqs = at::exp(at::mul(at::arange(half, options), -step));
    const at::Tensor args = t.to(at::kFloat).unsqueeze(1) * freqs.unsqueeze(0);
    const at::Tensor embedding = at::cat({at::sin(args), at::cos(args)}, -1);
    return second(at::gelu(first(embedding.to(m_initX->weight().scalar_type()))));
}

at::Tensor DermoSegDiffImpl::forward(const at::Tensor& xT, const at::Tensor& gIn,
                                     const at::Tensor& t)
{
    checkInputs(xT, gIn, t);
    const bool channelsLast = usesChannelsLast(xT.size(0));
    const at::ScalarType compute = m_bf16 ? at::kBFloat16 : xT.scalar_type();
    const auto format =
        channelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const at::Tensor source = xT.to(compute).contiguous(format);
    at::Tensor g = m_initG(gIn.to(compute).contiguous(format));
    std::optional<RankOneInput> rankOne;
    at::Tensor x;
    if (m_rewrites && m_config.channelsX == 1) {
        // The 1x1 init conv of a 1-channel x_t is gain * x_t + offset per channel; the first
        // ResNet block folds it into its convolution (RankOneInput).
        rankOne = RankOneInput{source, m_initX->weight().view({-1}), m_initX->bias()};
        const at::Tensor gain = rankOne->gain.to(compute).view({1, -1, 1, 1});
        const at::Tensor offset = rankOne->offset.to(compute).view({1, -1, 1, 1});
        x = at::addcmul(offset, source, gain).contiguous(format);
    } else {
        x = m_initX(source);
    }
    if (channelsLast) {
        x = x.contiguous(at::MemoryFormat::ChannelsLast);
        g = g.contiguous(at::MemoryFormat::ChannelsLast);
    }
    const at::Tensor residualX = x;
    const at::Tensor residualG = g;
    // Every ResNet block's time MLP starts with SiLU of the same embedding.
    const at::Tensor timeActX = at::silu(timeEmbedding(t, m_config.dimX, m_timeX1, m_timeX2));
    const at::Tensor timeActG = at::silu(timeEmbedding(t, m_config.dimG, m_timeG1, m_timeG2));

    const std::size_t levels = m_encoders.size();
    std::vector<EncoderOutput> skips;
    skips.reserve(levels);
    for (std::size_t l = 0; l < levels; ++l) {
        EncoderOutput out = m_encoders[l]->forward(x, g, timeActX, timeActG,
                                                   l == 0 && rankOne ? &*rankOne : nullptr);
        g = m_downG[l](out.g);
        x = m_downX[l](out.x);
        out.x = at::Tensor();
        out.g = at::Tensor();
        skips.push_back(std::move(out));
    }
    x = m_bottleneck(at::cat({x, g}, 1), timeActX);
    g = at::Tensor();
    for (std::size_t ind = 0; ind < levels; ++ind) {
        EncoderOutput& skip = skips[levels - 1 - ind];
        x = m_decoders[ind](x, skip.b, skip.h, timeActX);
        skip = EncoderOutput{};
        x = m_ups[ind](x);
    }
    x = m_finalBlock(at::cat({x, residualX, residualG}, 1), timeActX);
    return m_finalConv(x).to(xT.scalar_type()).contiguous();
}

void DermoSegDiffImpl::setRewrites(bool on)
{
    m_rewrites = on;
    for (LevelTransition& up : m_ups) {
        up.setRewrite(on);
    }
}

std::int64_t DermoSegDiffImpl::parameterCount() const
{
    return countParameters(*this);
}

} // namespace diffseg::core::engine
