"""What users send besides text (files, voice notes), read into text the model can use."""
