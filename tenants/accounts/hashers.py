"""Password hashing: Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

Django's default Argon2 settings (100 MiB, parallelism 8) cost ~100 ms a hash on a 2-core node,
which would be most of a signup's budget; OWASP's baseline keeps the same algorithm at ~20 ms.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    algorithm = "argon2id19m"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
