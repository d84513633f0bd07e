<?php
/**
 * WordPress-like lab stub for wp-includes/sitemaps/class-wp-sitemaps-renderer.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'sitemaps/class-wp-sitemaps-renderer.php';
