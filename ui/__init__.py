"""Streamlit pages of the msonet app."""
