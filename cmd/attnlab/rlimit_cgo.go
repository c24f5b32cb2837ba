//go:build cgo && linux

package main

/*
#include <malloc.h>
#include <sys/resource.h>

// Under a limit on the address space or the data segment, glibc's malloc
// gets at most two arenas, each of which reserves 64 MiB of address space
// (by default up to eight per core: one per thread that allocates). This
// runs when the program is loaded, before the Go runtime starts threads.
__attribute__((constructor)) static void attnlab_cap_arenas(void) {
#ifdef M_ARENA_MAX
	struct rlimit as, data;
	if ((getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) ||
	    (getrlimit(RLIMIT_DATA, &data) == 0 && data.rlim_cur != RLIM_INFINITY)) {
		mallopt(M_ARENA_MAX, 2);
	}
#endif
}
*/
import "C"
