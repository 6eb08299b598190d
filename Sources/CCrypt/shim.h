// libxcrypt's crypt.h (Debian: libcrypt-dev): crypt_rn verifies and crypt_gensalt_rn makes the
// bcrypt hashes of the metrics server's basic-auth users.
#ifndef ETCD_SWIFT_CCRYPT_SHIM_H
#define ETCD_SWIFT_CCRYPT_SHIM_H

#include <crypt.h>

#endif
