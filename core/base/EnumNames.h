#pragma once

// Enum <-> name tables. Every enum the engine names (configuration values, file formats, error
// kinds) used to carry its own switch statement and its own hand-written parse loop, so a name,
// its aliases and the list an error message offers could drift apart. One table per enum keeps
// them in one place; these helpers are the only code that reads the tables.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace diffseg::core {

/// One row of an enum's name table. A value may have several rows: its first row holds the
/// canonical name (what enumName() returns and enumChoices() lists), later rows hold aliases that
/// only the parsers accept, so other spellings keep parsing without ever being written back.
template <class E>
struct EnumName
{
    E value;
    const char* name;
};

/// The canonical name of `value`, or `fallback` when the table has no row for it (a value cast
/// from an out-of-range integer; each caller keeps the fallback it always answered).
template <class E, std::size_t N>
constexpr const char* enumName(const EnumName<E> (&table)[N], E value,
                               const char* fallback) noexcept
{
    for (const EnumName<E>& row : table) {
        if (row.value == value) {
            return row.name;
        }
    }
    return fallback;
}

namespace detail {

/// Lower-cases ASCII letters only: names are ASCII, and the C library's tolower would follow the
/// process locale (a Turkish locale folds 'I' to a non-ASCII byte).
constexpr char enumNameLower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool enumNameEquals(std::string_view a, std::string_view b, bool ignoreCase) noexcept
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const bool same = ignoreCase ? enumNameLower(a[i]) == enumNameLower(b[i]) : a[i] == b[i];
        if (!same) {
            return false;
        }
    }
    return true;
}

template <class E, std::size_t N>
constexpr std::optional<E> enumFind(const EnumName<E> (&table)[N], std::string_view name,
                                    bool ignoreCase) noexcept
{
    for (const EnumName<E>& row : table) {
        if (enumNameEquals(row.name, name, ignoreCase)) {
            return row.value;
        }
    }
    return std::nullopt;
}

} // namespace detail

/// The value that `name` or one of its aliases spells, ignoring ASCII case (user input: CLI
/// options, YAML values); nullopt when no row matches, so that each caller words its own error.
template <class E, std::size_t N>
constexpr std::optional<E> enumFromName(const EnumName<E> (&table)[N],
                                        std::string_view name) noexcept
{
    return detail::enumFind(table, name, true);
}

/// Same, but case-sensitive: for the formats that have always required the exact spelling (JSON
/// written by our own tools), where accepting more would change what a config means elsewhere.
template <class E, std::size_t N>
constexpr std::optional<E> enumFromExactName(const EnumName<E> (&table)[N],
                                             std::string_view name) noexcept
{
    return detail::enumFind(table, name, false);
}

/// The canonical names in table order as an error message lists them: "a", "a or b",
/// "a, b or c". Aliases are left out (they are tolerated, not advertised).
template <class E, std::size_t N>
std::string enumChoices(const EnumName<E> (&table)[N])
{
    std::size_t canonical[N] = {};
    std::size_t count = 0;
    for (std::size_t i = 0; i < N; ++i) {
        bool first = true;
        for (std::size_t j = 0; j < i; ++j) {
            first = first && !(table[j].value == table[i].value);
        }
        if (first) {
            canonical[count++] = i;
        }
    }
    std::string text;
    for (std::size_t k = 0; k < count; ++k) {
        if (k > 0) {
            text += k + 1 == count ? " or " : ", ";
        }
        text += table[canonical[k]].name;
    }
    return text;
}

} // namespace diffseg::core
