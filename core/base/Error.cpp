#include "Error.h"

namespace diffseg::core {

namespace {

std::string compose(const std::string& subject, const std::string& problem)
{
    return subject.empty() ? problem : subject + ": " + problem;
}

} // namespace

Error::Error(ErrorKind kind, const std::string& subject, const std::string& problem)
    : std::runtime_error(compose(subject, problem))
    , m_kind(kind)
    , m_subject(subject)
    , m_problem(problem)
{}

const char* errorKindName(ErrorKind kind) noexcept
{
    switch (kind) {
    case ErrorKind::NotFound:
        return "not found";
    case ErrorKind::Io:
        return "i/o";
    case ErrorKind::Format:
        return "format";
    case ErrorKind::InvalidValue:
        return "invalid value";
    case ErrorKind::Mismatch:
        return "mismatch";
    case ErrorKind::Config:
        return "config";
    case ErrorKind::Cancelled:
        return "cancelled";
    case ErrorKind::Unsupported:
        return "unsupported";
    case ErrorKind::Internal:
        return "internal";
    }
    return "unknown";
}

} // namespace diffseg::core
