"""Short names and one-line descriptions of the CWEs the project's rule pack reports.

Written for this project in its own words (not copied from MITRE): a prompt generator and a
teacher model need a sentence saying what each weakness is, and a test checks that every CWE
in `scorers/rules/` has an entry here, so the table cannot fall behind the pack.
"""

from __future__ import annotations

CWE_TEXT: dict[str, tuple[str, str]] = {
    "CWE-20": ("Improper input validation",
               "Input is used without checking that it has the expected form, size or range."),
    "CWE-22": ("Path traversal",
               "A file path built from user data can escape the intended directory "
               "with '../' or an absolute path."),
    "CWE-78": ("OS command injection",
               "A shell command is built from user data, so shell metacharacters run "
               "extra commands."),
    "CWE-79": ("Cross-site scripting",
               "User data is written into a web page without escaping, so it runs as "
               "script in the browser."),
    "CWE-89": ("SQL injection",
               "A SQL statement is built by concatenating user data instead of using "
               "bound parameters."),
    "CWE-94": ("Code injection",
               "User data ends up in code that the program compiles or evaluates."),
    "CWE-95": ("Eval injection",
               "User data is passed to eval/exec-style functions and runs as code."),
    "CWE-98": ("PHP file inclusion",
               "A file named by the request is passed to include/require, so an attacker "
               "chooses which code runs."),
    "CWE-117": ("Log injection",
                "Unneutralised user data in log lines lets an attacker forge or split "
                "log entries."),
    "CWE-119": ("Memory buffer bounds violation",
                "Reads or writes go outside the bounds of a memory buffer."),
    "CWE-120": ("Classic buffer overflow",
                "Data is copied into a buffer without checking that it fits."),
    "CWE-121": ("Stack-based buffer overflow",
                "A fixed-size stack buffer is overrun, corrupting the stack."),
    "CWE-124": ("Buffer underwrite",
                "A write lands before the start of a buffer (negative index or pointer "
                "underflow)."),
    "CWE-129": ("Unchecked array index",
                "An index from untrusted data is used without checking it against the "
                "array's bounds."),
    "CWE-134": ("Uncontrolled format string",
                "User data is used as the format string of printf-style functions."),
    "CWE-185": ("Incorrect regular expression",
                "A regular expression does not match what it is meant to, letting bad "
                "input through."),
    "CWE-190": ("Integer overflow",
                "An arithmetic result wraps around, e.g. a size computation that becomes "
                "too small."),
    "CWE-193": ("Off-by-one error",
                "A bound or length is wrong by one, typically forgetting the terminating "
                "NUL."),
    "CWE-200": ("Exposure of sensitive information",
                "Sensitive data is shown to an actor who should not see it."),
    "CWE-208": ("Observable timing discrepancy",
                "Secrets are compared with an early-exit comparison whose timing leaks "
                "the secret."),
    "CWE-209": ("Error message information leak",
                "Error messages reveal internals such as stack traces, paths or queries."),
    "CWE-215": ("Debug information exposure",
                "Debug mode or debug output is left enabled in deployed code."),
    "CWE-242": ("Inherently dangerous function",
                "A function that cannot be used safely (e.g. gets) is called."),
    "CWE-276": ("Incorrect default permissions",
                "Files or resources are created with permissions that are too broad."),
    "CWE-290": ("Authentication bypass by spoofing",
                "Identity is trusted from data an attacker can forge (headers, IPs, "
                "names)."),
    "CWE-295": ("Improper certificate validation",
                "TLS certificates or host names are not verified, allowing "
                "man-in-the-middle attacks."),
    "CWE-312": ("Cleartext storage of sensitive information",
                "Secrets or personal data are stored unencrypted."),
    "CWE-319": ("Cleartext transmission",
                "Sensitive data is sent over an unencrypted channel such as plain HTTP."),
    "CWE-323": ("Reusing a nonce or key pair",
                "A nonce or IV is reused with the same key, breaking the cipher's "
                "guarantees."),
    "CWE-326": ("Inadequate encryption strength",
                "Keys or parameters are too small to resist brute force."),
    "CWE-327": ("Broken or risky cryptography",
                "An algorithm or mode known to be weak (DES, RC4, MD5, ECB) protects data."),
    "CWE-328": ("Weak hash",
                "A hash function with known collisions or too little work is used for "
                "security."),
    "CWE-329": ("Predictable IV",
                "A CBC initialisation vector is constant or predictable."),
    "CWE-330": ("Insufficiently random values",
                "Values that must be unpredictable come from a weak random source."),
    "CWE-335": ("Incorrect PRNG seeding",
                "A random generator is seeded with a constant or guessable value."),
    "CWE-337": ("Predictable PRNG seed",
                "The seed of a random generator can be guessed, e.g. the current time."),
    "CWE-338": ("Weak PRNG for security",
                "A non-cryptographic random generator produces tokens, keys or "
                "passwords."),
    "CWE-345": ("Insufficient verification of data authenticity",
                "Data is accepted without checking that it comes from a trusted origin."),
    "CWE-346": ("Origin validation error",
                "The origin of a request or message is not validated, e.g. a "
                "permissive CORS policy."),
    "CWE-347": ("Improper signature verification",
                "A signature (e.g. of a JWT) is not checked, or checked with 'none'."),
    "CWE-352": ("Cross-site request forgery",
                "State-changing requests are accepted without an anti-forgery token."),
    "CWE-353": ("Missing integrity check",
                "Data is encrypted or transmitted without a check that it was not "
                "altered."),
    "CWE-377": ("Insecure temporary file",
                "A temporary file is created with a predictable name or unsafe API."),
    "CWE-415": ("Double free",
                "The same memory is freed twice, corrupting the allocator."),
    "CWE-416": ("Use after free",
                "Memory is used after it has been freed."),
    "CWE-476": ("NULL pointer dereference",
                "A pointer that can be NULL (e.g. a failed allocation) is dereferenced."),
    "CWE-489": ("Active debug code",
                "Debugging features are left enabled in production."),
    "CWE-502": ("Deserialization of untrusted data",
                "Untrusted bytes are deserialised by a format that can build arbitrary "
                "objects (pickle, yaml.load)."),
    "CWE-521": ("Weak password requirements",
                "Passwords are accepted without minimal strength requirements."),
    "CWE-554": ("Unvalidated input framework",
                "The framework's input validation is not used or is turned off."),
    "CWE-589": ("Call to non-ubiquitous API",
                "A platform-specific or unsafe API is relied on where a portable safe "
                "one exists."),
    "CWE-590": ("Free of memory not on the heap",
                "free() is called on stack or static memory."),
    "CWE-601": ("Open redirect",
                "A redirect target taken from user data can send users to any site."),
    "CWE-611": ("XML external entities",
                "An XML parser resolves external entities, allowing file disclosure or "
                "SSRF."),
    "CWE-617": ("Reachable assertion",
                "An assert that input can trigger is used for validation (and vanishes "
                "with -O)."),
    "CWE-643": ("XPath injection",
                "An XPath query is built from user data."),
    "CWE-665": ("Improper initialisation",
                "A resource is used before it is properly initialised."),
    "CWE-676": ("Potentially dangerous function",
                "A function that is easy to misuse (strcpy, sprintf) is used without "
                "care."),
    "CWE-680": ("Integer overflow to buffer overflow",
                "An overflowing size computation leads to a too-small allocation."),
    "CWE-690": ("Unchecked return value to NULL dereference",
                "A function's NULL return is not checked before use."),
    "CWE-732": ("Incorrect permission assignment",
                "A critical resource gets permissions that let other users read or "
                "change it."),
    "CWE-759": ("Hash without salt",
                "Passwords are hashed without a salt, enabling precomputed attacks."),
    "CWE-762": ("Mismatched memory routines",
                "Memory is released with a routine that does not match how it was "
                "allocated."),
    "CWE-770": ("Allocation without limits",
                "Resources are allocated with no limit, enabling denial of service."),
    "CWE-787": ("Out-of-bounds write",
                "Data is written past the end (or before the start) of a buffer."),
    "CWE-798": ("Hard-coded credentials",
                "Passwords, keys or tokens are written into the source code."),
    "CWE-807": ("Untrusted input in a security decision",
                "A security decision relies on a value the attacker controls."),
    "CWE-843": ("Type confusion",
                "A resource is accessed as a type it is not."),
    "CWE-908": ("Use of uninitialised resource",
                "A variable or buffer is read before it is initialised."),
    "CWE-918": ("Server-side request forgery",
                "The server fetches a URL taken from user data, reaching internal "
                "services."),
    "CWE-1240": ("Risky cryptographic primitive",
                 "A cryptographic primitive with known weaknesses is implemented or "
                 "used."),
    "CWE-1333": ("Inefficient regular expression (ReDoS)",
                 "A regular expression with catastrophic backtracking lets input hang "
                 "the program."),
    "CWE-1336": ("Template injection",
                 "User data is rendered as a template, letting it run template code."),
}  # fmt: skip


def describe(cwe: str | None) -> str | None:
    """'CWE-89: SQL injection. A SQL statement is …', or None for an unknown CWE."""
    if not cwe or cwe not in CWE_TEXT:
        return None
    name, text = CWE_TEXT[cwe]
    return f"{cwe}: {name}. {text}"
