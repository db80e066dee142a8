"""Hot spot analysis: the space-time cube, Getis-Ord Gi*, Mann-Kendall trends, the emerging patterns and clusters."""
