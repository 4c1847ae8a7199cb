"""Training: continual pretraining with FIM and packing (own accelerate loop); SFT and DPO on TRL."""
