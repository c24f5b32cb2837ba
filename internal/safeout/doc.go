// Package safeout writes the files that attnlab's commands produce (exports,
// plots, evaluation results) without ever destroying what it must not.
//
// A Target is one output path and the user's intent for it. Write refuses,
// with one line naming the path and before anything is written:
//
//   - a file listed in Keep, such as the run database, whatever path names
//     it (files are compared by device and inode, so a symlink, a hard link
//     or "./x/../c.db" is caught as well as "c.db");
//   - anything that is not a regular file: a directory, a device such as
//     /dev/full, a FIFO, a socket;
//   - a symlink whose target is missing or is not a regular file (a symlink
//     to a regular file follows the user's intent: the target is written
//     and the link stays a link);
//   - a SQLite database, write-ahead log or rollback journal, recognised by
//     its first bytes, or by its name (X-shm, X-wal, X-journal beside a
//     database X, existing or new: a new X-journal is a hot journal to
//     SQLite), whatever Force says: no output of attnlab is one, so
//     replacing one (another run database given as -o) is always a mistake;
//   - a file that cannot be read, since it cannot be shown not to be one;
//   - without Force, an existing file.
//
// The data goes to a temporary file in the destination's directory, which
// is flushed, fsynced and then renamed over the destination (or, for a new
// file, hard-linked to it, so that a file created meanwhile by someone else
// is not replaced either); the directory is fsynced after. An error, or an
// interrupted process, leaves the destination as it was. A new file gets
// mode 0644 minus the process's umask (what a shell redirection would
// give, never the 0600 of a temporary file); a replaced file keeps its
// permission bits.
//
// The path "-" (or /dev/stdout, /dev/fd/1, /proc/self/fd/1, which name
// no file to replace) writes to the Target's Stdout instead.
package safeout
