"""The web application: the FastAPI factory (:func:`jingzhun.web.app.create_app`), the API and pages."""
