// The name patterns that pick kernel tests and benchmarks (bootargs ktest= and
// kbench=, the shell's `ktest PATTERN`): a comma-separated list whose entries
// are a full name, a prefix ending in '*', or "all"; an entry "-ENTRY"
// leaves out what ENTRY names ("all,-threads_*").
#pragma once

namespace lib {

// Whether name matches an entry of pattern. An explicit_only name (a test that
// must be asked for by name) matches only its full name: "all" and prefixes
// leave it out.
[[nodiscard]] bool name_matches(const char* name, const char* pattern, bool explicit_only = false);

} // namespace lib
