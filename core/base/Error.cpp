#include "Error.h"

#include "EnumNames.h"

namespace diffseg::core {

namespace {

std::string compose(const std::string& subject, const std::string& problem)
{
    return subject.empty() ? problem : subject + ": " + problem;
}

constexpr EnumName<ErrorKind> kErrorKindNames[] = {
    {ErrorKind::NotFound, "not found"},  {ErrorKind::Io, "i/o"},
    {ErrorKind::Format, "format"},       {ErrorKind::InvalidValue, "invalid value"},
    {ErrorKind::Mismatch, "mismatch"},   {ErrorKind::Config, "config"},
    {ErrorKind::Cancelled, "cancelled"}, {ErrorKind::Unsupported, "unsupported"},
    {ErrorKind::Internal, "internal"}};

} // namespace

Error::Error(ErrorKind kind, const std::string& subject, const std::string& problem)
    : std::runtime_error(compose(subject, problem))
    , m_kind(kind)
    , m_subject(subject)
    , m_problem(problem)
{}

const char* errorKindName(ErrorKind kind) noexcept
{
    return enumName(kErrorKindNames, kind, "unknown");
}

} // namespace diffseg::core
