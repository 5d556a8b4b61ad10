// The C string and memory functions, for code that builds both freestanding
// (kernel: lib/string.cc implements them) and hosted (host tests: glibc's).
#pragma once

#include <cstddef>

#ifdef ZEST_HOST
#include <cstring>
#else
extern "C" {
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
size_t strnlen(const char* s, size_t max);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
char* strchr(const char* s, int c);
}
#endif
