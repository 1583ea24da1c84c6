/*
 * Small file-system helpers shared by the CLI and the platform.
 * Thread safe (no shared state).
 */
#ifndef NERD_FSUTIL_H
#define NERD_FSUTIL_H

/* mkdir -p: creates path and its missing parents (mode 0755).  Returns 0
 * when path is a directory afterwards, -1 with errno set otherwise
 * (ENAMETOOLONG past 4095 bytes, ENOTDIR when it names a file). */
int fs_mkdirs(const char *path);

#endif
