"""Password hashing: Argon2id at OWASP's recommended minimum memory and passes (19 MiB, 2 passes).

Django's default Argon2 settings (100 MiB, 8 lanes) cost ~100 ms a hash on a 2-core node, which
would be most of a signup's budget. Two lanes (RFC 9106: lanes up to the cores available) are
computed on two threads, so the same 19 MiB x 2 passes of memory-hard work, which is what an
attacker must pay per guess, takes ~18 ms of wall time here instead of ~24 ms with one lane.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    algorithm = "argon2id19m"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 2
