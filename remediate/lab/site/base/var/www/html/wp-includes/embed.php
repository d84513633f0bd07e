<?php
/**
 * WordPress-like lab stub for wp-includes/embed.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'embed.php';
