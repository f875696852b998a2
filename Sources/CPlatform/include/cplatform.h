#ifndef SKILLFORGE_CPLATFORM_H
#define SKILLFORGE_CPLATFORM_H

/// Atomically exchanges two paths (Linux renameat2 with RENAME_EXCHANGE). Returns 0 on success,
/// -1 with errno set otherwise (EINVAL/ENOSYS where the filesystem or kernel does not support it).
int skillforge_rename_exchange(const char *from, const char *to);

#endif
