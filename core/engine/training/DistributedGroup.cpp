#include "DistributedGroup.h"

#include "base/Error.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdlib>
#include <string>

namespace diffseg::core::engine {

namespace {

int intVariable(const char* name, int fallback, int low, int high)
{
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') {
        return fallback;
    }
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < low || value > high) {
        throw Error(ErrorKind::Config, name,
                    "'" + std::string(text) + "' is not an integer in [" + std::to_string(low) +
                        ", " + std::to_string(high) + "]");
    }
    return static_cast<int>(value);
}

// DDP's default bucket: large enough to amortise a collective's latency, small enough that the
// flat copy stays a small part of the memory.
constexpr std::size_t kBucketBytes = 25 * 1024 * 1024;

} // namespace

struct DistributedGroup::Connection
{
#if TORCH_VERSION_MAJOR >= 2
    using Group = c10d::Backend; // ProcessGroupGloo/NCCL derive from Backend since 2.0
#else
    using Group = c10d::ProcessGroup;
#endif
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<Group> group;
};

DistributedOptions DistributedOptions::fromEnvironment()
{
    DistributedOptions o;
    o.worldSize = intVariable("WORLD_SIZE", 1, 1, 65536);
    o.rank = intVariable("RANK", 0, 0, o.worldSize - 1);
    o.localRank = intVariable("LOCAL_RANK", 0, 0, 65535);
    if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') {
        o.masterAddr = addr;
    }
    o.masterPort = intVariable("MASTER_PORT", o.masterPort, 1, 65535);
    if (const char* backend = std::getenv("DIFFSEG_DIST_BACKEND");
        backend != nullptr && *backend != '\0') {
        o.backend = backend;
    }
    o.timeoutSeconds = intVariable("DIFFSEG_DIST_TIMEOUT", o.timeoutSeconds, 1, 86400);
    if (o.backend != "auto" && o.backend != "gloo" && o.backend != "nccl") {
        throw Error(ErrorKind::Config, "DIFFSEG_DIST_BACKEND",
                    "'" + o.backend + "' is not gloo, nccl or auto");
    }
    return o;
}

DistributedGroup::DistributedGroup(const DistributedOptions& options, const torch::Device& device)
    : m_options(options)
{
    if (!active()) {
        return;
    }
    const auto timeout = std::chrono::seconds(options.timeoutSeconds);
    std::string backend = options.backend;
    if (backend == "auto") {
        backend = device.is_cuda() ? "nccl" : "gloo";
    }
#ifndef USE_C10D_NCCL
    if (backend == "nccl") {
        throw Error(ErrorKind::Unsupported, "nccl",
                    "this diffseg's LibTorch has no NCCL: train on CPUs with gloo, or build "
                    "against a CUDA LibTorch");
    }
#endif
    const std::string where = options.masterAddr + ":" + std::to_string(options.masterPort);
    try {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(options.masterPort);
        so.isServer = options.rank == 0;
        so.numWorkers = options.worldSize;
        so.waitWorkers = true;
        so.timeout = timeout;
        m_connection = std::make_unique<Connection>();
        auto& store = m_connection->store;
        auto& group = m_connection->group;
        store = c10::make_intrusive<c10d::TCPStore>(options.masterAddr, so);
        if (backend == "gloo") {
            auto go = c10d::ProcessGroupGloo::Options::create(timeout);
            go->devices.push_back(
                c10d::ProcessGroupGloo::createDeviceForHostname(options.masterAddr));
            group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank,
                                                                options.worldSize, go);
        }
#ifdef USE_C10D_NCCL
        else {
            auto no = c10d::ProcessGroupNCCL::Options::create();
            no->timeout = timeout;
            group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, options.rank,
                                                                options.worldSize, no);
        }
#endif
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorKind::Io, where,
                    "rank " + std::to_string(options.rank) + " of " +
                        std::to_string(options.worldSize) + " could not join the job: " + e.what());
    }
    m_backend = backend;
}

DistributedGroup::~DistributedGroup() = default;

void DistributedGroup::fail(const std::string& what, const std::exception& e) const
{
    std::string text = e.what();
    if (const auto cut = text.find("\nException raised from"); cut != std::string::npos) {
        text.resize(cut); // LibTorch appends a C++ stack trace: not for people
    }
    throw Error(ErrorKind::Io, "rank " + std::to_string(m_options.rank),
                what + " failed (another rank died, hung or lost its connection): " + text);
}

void DistributedGroup::broadcast(const std::vector<torch::Tensor>& tensors)
{
    if (!active()) {
        return;
    }
    try {
        torch::NoGradGuard noGrad;
        for (const torch::Tensor& t : tensors) {
            std::vector<at::Tensor> one{t.detach()};
            m_connection->group->broadcast(one)->wait();
        }
    } catch (const std::exception& e) {
        fail("broadcasting the initial weights", e);
    }
}

void DistributedGroup::averageGradients(const std::vector<torch::Tensor>& parameters)
{
    if (!active()) {
        return;
    }
    torch::NoGradGuard noGrad;
    try {
        std::size_t first = 0;
        while (first < parameters.size()) {
            // One bucket: consecutive parameters up to kBucketBytes (at least one).
            std::size_t last = first;
            std::size_t bytes = 0;
            std::vector<torch::Tensor> grads;
            while (last < parameters.size() &&
                   (grads.empty() || bytes + parameters[last].nbytes() <= kBucketBytes)) {
                torch::Tensor p = parameters[last];
                if (!p.grad().defined()) {
                    p.mutable_grad() = torch::zeros_like(p);
                }
                grads.push_back(p.grad());
                bytes += p.nbytes();
                ++last;
            }
            std::vector<at::Tensor> flat{torch::cat([&] {
                std::vector<torch::Tensor> views;
                for (const torch::Tensor& g : grads) {
                    views.push_back(g.reshape({-1}));
                }
                return views;
            }())};
            m_connection->group->allreduce(flat)->wait();
            flat[0].div_(m_options.worldSize);
            std::int64_t offset = 0;
            for (torch::Tensor& g : grads) {
                const std::int64_t n = g.numel();
                g.copy_(flat[0].slice(0, offset, offset + n).view_as(g));
                offset += n;
            }
            first = last;
        }
    } catch (const std::exception& e) {
        fail("averaging the gradients", e);
    }
}

bool DistributedGroup::anyRank(bool flag)
{
    return average(flag ? 1.0 : 0.0) > 0.0;
}

std::function<bool()> DistributedGroup::stopAgreement(const CancelToken& cancel)
{
    if (!active()) {
        return {};
    }
    return [this, cancel] {
        return anyRank(cancel.isCancelled());
    };
}

double DistributedGroup::average(double value)
{
    if (!active()) {
        return value;
    }
    try {
        std::vector<at::Tensor> one{torch::full({1}, value, torch::kFloat64)};
        m_connection->group->allreduce(one)->wait();
        return one[0].item<double>() / m_options.worldSize;
    } catch (const std::exception& e) {
        fail("averaging the loss", e);
    }
}

void DistributedGroup::leaderDone(const std::string& key, std::chrono::seconds wait)
{
    if (!active()) {
        return;
    }
    try {
        if (leader()) {
            m_connection->store->set(key, std::vector<std::uint8_t>{1});
        } else {
            m_connection->store->wait({key},
                                      std::chrono::duration_cast<std::chrono::milliseconds>(wait));
        }
    } catch (const std::exception& e) {
        fail("waiting for rank 0 (" + key + ")", e);
    }
}

void DistributedGroup::barrier(const std::string& what)
{
    if (!active()) {
        return;
    }
    try {
        m_connection->group->barrier()->wait();
    } catch (const std::exception& e) {
        fail(what, e);
    }
}

} // namespace diffseg::core::engine
