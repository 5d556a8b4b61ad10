/*
 * libstdc++'s freestanding headers (<atomic>, <cstdint>...) pull in glibc's
 * <features.h> for their configuration, which asks for the list of
 * unimplemented functions of the ABI in use. Debian's cross glibc ships that
 * list only for lp64d; the kernel is built lp64 (no floating point) and calls
 * no glibc function at all, so its list is empty.
 */
