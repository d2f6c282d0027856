#include "Text.h"

#include <algorithm>
#include <cctype>

namespace diffseg::core {

std::string asciiLower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

} // namespace diffseg::core
