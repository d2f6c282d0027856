#include "ResourcePaths.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace diffseg::core {

namespace {

/// The absolute, normalised form of `path` when it is an existing folder, else empty.
std::string existingFolder(const fs::path& path)
{
    std::error_code ec;
    if (path.empty() || !fs::is_directory(path, ec)) {
        return {};
    }
    fs::path canonical = fs::weakly_canonical(path, ec);
    if (ec) {
        canonical = fs::absolute(path, ec).lexically_normal();
    }
    std::string text = canonical.string();
    while (text.size() > 1 && text.back() == '/') {
        text.pop_back();
    }
    return text;
}

} // namespace

std::string executablePath()
{
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : self.string();
}

std::string resourceDirFor(const std::string& executable)
{
    if (!executable.empty()) {
        std::error_code ec;
        fs::path exe = fs::weakly_canonical(fs::path(executable), ec);
        if (ec) {
            exe = fs::path(executable);
        }
        const std::string installed =
            existingFolder(exe.parent_path().parent_path() / "share" / "diffseg-studio");
        if (!installed.empty()) {
            return installed;
        }
    }
#ifdef DIFFSEG_SOURCE_RESOURCE_DIR
    return existingFolder(fs::path(DIFFSEG_SOURCE_RESOURCE_DIR));
#else
    return {};
#endif
}

std::string resourceDir()
{
    if (const char* env = std::getenv("DIFFSEG_RESOURCE_DIR")) {
        const std::string dir = existingFolder(fs::path(env));
        if (!dir.empty()) {
            return dir;
        }
    }
    return resourceDirFor(executablePath());
}

std::vector<std::string> packagedModels(PackagedModelKind kind)
{
    const char* const photo[] = {"models/dermoscopy-isic2018.dsckpt",
                                 "models/dermoscopy-demo.dsckpt"};
    const char* const volume[] = {"models/diffunet-hippocampus.dsckpt",
                                  "models/diffunet-demo.dsckpt"};
    std::vector<std::string> found;
    for (const char* name : kind == PackagedModelKind::Photo ? photo : volume) {
        const std::string path = resourcePath(name);
        if (!path.empty()) {
            found.push_back(path);
        }
    }
    return found;
}

std::string packagedDefaultModel(PackagedModelKind kind)
{
    const std::vector<std::string> found = packagedModels(kind);
    return found.empty() ? std::string() : found.front();
}

std::string resourcePath(const std::string& relative)
{
    const std::string dir = resourceDir();
    if (dir.empty() || relative.empty()) {
        return dir;
    }
    std::error_code ec;
    const fs::path path = fs::path(dir) / relative;
    return fs::exists(path, ec) ? path.lexically_normal().string() : std::string();
}

} // namespace diffseg::core
