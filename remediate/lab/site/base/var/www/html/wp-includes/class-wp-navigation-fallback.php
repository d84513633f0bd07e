<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-navigation-fallback.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-navigation-fallback.php';
