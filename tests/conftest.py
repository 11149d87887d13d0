"""Every test runs with English as the language unless it says otherwise (``DEEPMAT_LANG=en``,
whatever the machine's locale), and a word missing from a language's table raises
(``DEEPMAT_I18N_STRICT=1``) instead of falling back to English; subprocesses inherit both."""

import os

os.environ["DEEPMAT_LANG"] = "en"
os.environ["DEEPMAT_I18N_STRICT"] = "1"
