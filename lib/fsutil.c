/*
 * File-system helpers (fsutil.h): mkdir -p.
 */
#include "fsutil.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int fs_mkdirs(const char *path)
{
    char p[4096];
    size_t n = strlen(path);
    if (!n || n >= sizeof p) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0)
            continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -1;
        p[i] = c;
    }
    struct stat st;
    if (stat(path, &st))
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
