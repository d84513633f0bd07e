<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-embed.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-embed.php';
