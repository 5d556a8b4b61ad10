#include "kern/task/programs.h"

#include "lib/string.h"

// From the generated $(BUILD)/user_programs.S.
extern "C" const kern::programs::Program user_programs[];
extern "C" const uint64_t user_program_count;

namespace kern::programs {

const Program* find(const char* name)
{
    for (size_t i = 0; i < user_program_count; i++)
        if (strcmp(user_programs[i].name, name) == 0)
            return &user_programs[i];
    return nullptr;
}

size_t count() { return user_program_count; }
const Program& at(size_t i) { return user_programs[i]; }

} // namespace kern::programs
