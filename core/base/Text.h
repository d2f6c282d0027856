#pragma once

// Small text helpers shared by the parsers (option names, file suffixes, header keys).

#include <string>

namespace diffseg::core {

/// `text` with ASCII letters lower-cased (option names and suffixes are ASCII; other bytes stay).
std::string asciiLower(std::string text);

} // namespace diffseg::core
