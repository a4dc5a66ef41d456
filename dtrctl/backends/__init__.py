"""Registry backends: what each kind of registry (DTR / MSR 2-3, MSR 4 / Harbor) does behind one
interface (`dtrctl.backends.base.Backend`), so commands and push-check never name a registry's URLs.
"""
