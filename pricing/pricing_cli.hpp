#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tokenmeter {

/// True when the command line asks for `tokenmeter pricing ...`.
bool is_pricing_command(int argc, const char* const* argv);

/// Runs `pricing check FILE` (validate a table, print what was understood) or
/// `pricing quote --model M --prompt N --completion N [--cached N] [--cache-write N]
/// [--reasoning N] [--service-tier T] [--pricing FILE]` (the exact cost and the rule that
/// matched). `args` follows the word "pricing"; `default_table` is used when quote gets no
/// --pricing. Returns the process exit code: 0 done, 1 invalid or unpriced, 2 bad usage.
int run_pricing_command(const std::vector<std::string>& args, const std::string& default_table,
                        std::ostream& out, std::ostream& err);

} // namespace tokenmeter
