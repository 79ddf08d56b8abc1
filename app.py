"""msonet's Streamlit app in a clone of the repository: ``streamlit run app.py``.

Installed elsewhere, ``msonet app`` starts the same app; the app itself lives in :mod:`msonet.app`.
"""

from msonet.app import main

# Streamlit executes this file as "__main__" on every rerun.
if __name__ == "__main__":
    main()
