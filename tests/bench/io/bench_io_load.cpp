// Load-time and peak-memory benchmark of readVolume() against a plain itk::ImageFileReader on the
// same file, each load in a fresh process so that its peak RSS (VmHWM) is its own.
//
//   bench_io_load generate OUT.nii.gz [NX NY NZ]   write a CT-like int16 volume (default
//   512x512x300) bench_io_load compare FILE [REPEATS]           alternate both readers REPEATS
//   times (default 5) bench_io_load child diffseg|itk FILE           one load; prints one result
//   line (internal)
//
// The ITK reader reads the file's own pixel type (itk::Image<short,3> for int16 files), so both
// produce the same voxels. Thresholds checked by `compare`: median time ratio <= 1.1 and peak
// memory growth <= 1.5x the voxel bytes.

#include "base/Error.h"
#include "io/VolumeReader.h"
#include "io/VolumeWriter.h"

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageIOFactory.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

using diffseg::core::PixelType;
using diffseg::core::Volume;

long statusKb(const char* key)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(key);
    while (std::getline(in, line)) {
        if (line.compare(0, n, key) == 0) {
            return std::atol(line.c_str() + n + 1);
        }
    }
    return -1;
}

int generate(const std::string& path, std::int64_t nx, std::int64_t ny, std::int64_t nz)
{
    diffseg::core::Geometry g;
    g.spacing = {0.78125, 0.78125, 1.25};
    g.origin = {-200.0, -200.0, -400.0};
    Volume v({nx, ny, nz}, 1, PixelType::Int16, g);
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 15.0f);
    auto* p = v.data<std::int16_t>();
    std::size_t i = 0;
    for (std::int64_t k = 0; k < nz; ++k) {
        for (std::int64_t j = 0; j < ny; ++j) {
            for (std::int64_t x = 0; x < nx; ++x, ++i) {
                // Air, a body ellipse of soft tissue with two lungs and a spine: CT-like entropy.
                const double u = 2.0 * double(x) / double(nx) - 1.0;
                const double w = 2.0 * double(j) / double(ny) - 1.0;
                double hu = -1000.0;
                if (u * u / 0.8 + w * w / 0.5 < 1.0) {
                    hu = 40.0;
                    if (std::hypot(u + 0.35, w) < 0.25 || std::hypot(u - 0.35, w) < 0.25) {
                        hu = -850.0;
                    } else if (std::hypot(u, w - 0.4) < 0.08) {
                        hu = 700.0 + 100.0 * std::sin(double(k) * 0.1);
                    }
                    hu += noise(rng);
                }
                p[i] = static_cast<std::int16_t>(hu);
            }
        }
    }
    diffseg::core::writeVolume(v, path);
    std::printf("wrote %s (%lldx%lldx%lld int16)\n", path.c_str(), (long long)nx, (long long)ny,
                (long long)nz);
    return 0;
}

template <class T>
std::size_t itkLoad(const std::string& path)
{
    using Image = itk::Image<T, 3>;
    auto reader = itk::ImageFileReader<Image>::New();
    reader->SetFileName(path);
    reader->Update();
    return reader->GetOutput()->GetBufferedRegion().GetNumberOfPixels() * sizeof(T);
}

int child(const std::string& which, const std::string& path)
{
    diffseg::core::registerItkImageIoFactories();
    // The component type decides the plain reader's pixel type; read before the clock starts.
    itk::ImageIOBase::Pointer io = itk::ImageIOFactory::CreateImageIO(
        path.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
    if (!io) {
        std::fprintf(stderr, "%s: no ITK reader\n", path.c_str());
        return 1;
    }
    io->SetFileName(path);
    io->ReadImageInformation();
    const auto component = io->GetComponentType();
    io = nullptr;

    const long before = statusKb("VmRSS:");
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t bytes = 0;
    if (which == "diffseg") {
        const diffseg::core::LoadedVolume v = diffseg::core::readVolume(path);
        bytes = v.volume.byteSize();
    } else {
        switch (component) {
        case itk::IOComponentEnum::SHORT:
            bytes = itkLoad<short>(path);
            break;
        case itk::IOComponentEnum::USHORT:
            bytes = itkLoad<unsigned short>(path);
            break;
        case itk::IOComponentEnum::UCHAR:
            bytes = itkLoad<unsigned char>(path);
            break;
        default:
            bytes = itkLoad<float>(path);
            break;
        }
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s %.3f %ld %ld %zu\n", which.c_str(), ms, before, statusKb("VmHWM:"), bytes);
    return 0;
}

struct Sample
{
    double ms = 0.0;
    long beforeKb = 0;
    long peakKb = 0;
    std::size_t bytes = 0;
};

bool runChild(const char* self, const std::string& which, const std::string& path, Sample& out)
{
    int pipeFds[2];
    if (pipe(pipeFds) != 0) {
        return false;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
    std::vector<std::string> args = {self, "child", which, path};
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, self, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipeFds[1]);
    if (rc != 0) {
        close(pipeFds[0]);
        return false;
    }
    std::string text;
    char buffer[512];
    ssize_t n = 0;
    while ((n = read(pipeFds[0], buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<std::size_t>(n));
    }
    close(pipeFds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    char name[32];
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
           std::sscanf(text.c_str(), "%31s %lf %ld %ld %zu", name, &out.ms, &out.beforeKb,
                       &out.peakKb, &out.bytes) == 5;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

int compare(const char* self, const std::string& path, int repeats)
{
    std::vector<double> ms[2];
    std::vector<double> growth[2];
    std::vector<double> peak[2];
    std::size_t bytes = 0;
    const char* names[2] = {"diffseg", "itk"};
    for (int r = 0; r < repeats; ++r) {
        // Alternate the order so that file-cache and frequency effects hit both readers alike.
        for (int k = 0; k < 2; ++k) {
            const int which = (r % 2 == 0) ? k : 1 - k;
            Sample s;
            if (!runChild(self, names[which], path, s)) {
                std::fprintf(stderr, "bench_io_load: the %s reader failed on %s\n", names[which],
                             path.c_str());
                return 1;
            }
            ms[which].push_back(s.ms);
            growth[which].push_back(double(s.peakKb - s.beforeKb) * 1024.0);
            peak[which].push_back(double(s.peakKb) * 1024.0);
            bytes = s.bytes;
        }
    }
    const double ratio = median(ms[0]) / median(ms[1]);
    const double memRatio = median(growth[0]) / double(bytes);
    const double itkMemRatio = median(growth[1]) / double(bytes);
    std::printf("file: %s\nvoxel bytes: %.1f MiB, %d runs per reader (fresh process each)\n",
                path.c_str(), double(bytes) / 1048576.0, repeats);
    std::printf("%-8s %12s %16s %14s %12s\n", "reader", "median ms", "peak growth MiB",
                "x voxel bytes", "VmHWM MiB");
    for (int k = 0; k < 2; ++k) {
        std::printf("%-8s %12.1f %16.1f %14.2f %12.1f\n", names[k], median(ms[k]),
                    median(growth[k]) / 1048576.0, median(growth[k]) / double(bytes),
                    median(peak[k]) / 1048576.0);
    }
    const bool timeOk = ratio <= 1.1;
    const bool memoryOk = memRatio <= 1.5;
    std::printf("time ratio diffseg/itk: %.3f (limit 1.1) %s\n", ratio, timeOk ? "OK" : "FAIL");
    std::printf("peak growth diffseg: %.2fx voxel bytes (limit 1.5; itk: %.2fx) %s\n", memRatio,
                itkMemRatio, memoryOk ? "OK" : "FAIL");
    return timeOk && memoryOk ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "generate" && (argc == 3 || argc == 6)) {
            return argc == 6 ? generate(argv[2], std::atoll(argv[3]), std::atoll(argv[4]),
                                        std::atoll(argv[5]))
                             : generate(argv[2], 512, 512, 300);
        }
        if (mode == "child" && argc == 4) {
            return child(argv[2], argv[3]);
        }
        if (mode == "compare" && (argc == 3 || argc == 4)) {
            return compare("/proc/self/exe", argv[2],
                           argc == 4 ? std::max(1, std::atoi(argv[3])) : 5);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_io_load: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr,
                 "usage: %s generate OUT.nii.gz [NX NY NZ] | compare FILE [REPEATS] | child "
                 "diffseg|itk FILE\n",
                 argv[0]);
    return 2;
}
