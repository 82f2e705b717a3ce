"""servicing"""
