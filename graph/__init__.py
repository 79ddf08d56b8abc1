"""msonet graph library: domain model, vocabulary, stores and analytics (no Streamlit here)."""
