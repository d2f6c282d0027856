#include "Sessions.h"

#include "DocumentPaths.h"
#include "PhotoSession.h"
#include "VolumeSession.h"

namespace diffseg::core {

std::unique_ptr<Session> createSession(InputKind kind)
{
    if (kind == InputKind::Volume) {
        return std::make_unique<VolumeSession>();
    }
    return std::make_unique<PhotoSession>();
}

InputKind documentKind(const std::string& path)
{
    return isVolumePath(path) ? InputKind::Volume : InputKind::Photo;
}

std::unique_ptr<Session> openSession(const std::string& path)
{
    std::unique_ptr<Session> session = createSession(documentKind(path));
    session->open(path);
    return session;
}

} // namespace diffseg::core
