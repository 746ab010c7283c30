"""The model: catalog of models and prices, generation parameters, the OpenAI client."""
