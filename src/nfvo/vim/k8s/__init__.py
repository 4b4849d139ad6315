"""Building blocks of the Kubernetes VIM driver (``nfvo.vim.kubernetes``)."""
