#pragma once

// Making the session for a document: the studio and the tests open a path without knowing whether
// it is a photo or a volume.

#include "Session.h"

#include <memory>
#include <string>

namespace diffseg::core {

/// An empty session for `kind` (PhotoSession or VolumeSession).
std::unique_ptr<Session> createSession(InputKind kind);

/// The kind of document `path` is: a volume by isVolumePath(), else a photo.
InputKind documentKind(const std::string& path);

/// A session with `path` open (documentKind() decides which); Error naming the file otherwise.
std::unique_ptr<Session> openSession(const std::string& path);

} // namespace diffseg::core
