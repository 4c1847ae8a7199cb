"""Parse functions for parser-worker tests: they send back what the worker received."""


def echo(language: str, text: str) -> dict:
    return {"language": language, "text": text, "length": len(text)}


def echo_str(language: str, text: str) -> str:
    return f"{language}:{text}"  # an answer that is a JSON string, not an object
