"""The Streamlit app (``streamlit run ui/app.py``); see ``ui/app.py`` and ``ui/state.py``."""
