#include "CliCommand.h"

#include <map>

namespace diffseg::app {

namespace {

std::map<std::string, CliRegistrar>& registry()
{
    static std::map<std::string, CliRegistrar> commands;
    return commands;
}

} // namespace

bool registerCliCommand(const char* name, CliRegistrar registrar)
{
    registry()[name] = std::move(registrar);
    return true;
}

void addRegisteredCommands(CLI::App& root, CliResult& result)
{
    for (auto& [name, registrar] : registry()) {
        registrar(root, result);
    }
}

} // namespace diffseg::app
